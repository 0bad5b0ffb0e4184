namespace TinyGrad.Backends.Cuda;

/// <summary>
/// The name of every kernel the backend launches, as declared (<c>extern "C" __global__</c>) in
/// <c>Kernels/*.cu</c>. The backend launches only these constants, and a unit test checks each against the
/// parsed sources, so a renamed kernel fails the test suite on any machine, not at run time on a GPU.
/// </summary>
internal static class KernelNames
{
    public const string Fill = "tg_fill";
    public const string Unary = "tg_unary_map";
    public const string Binary = "tg_binary_map";
    public const string CopyBlocks = "tg_copy_blocks";
    public const string Permute = "tg_permute";
    public const string ScaleMatrix = "tg_scale_matrix";
    public const string ReduceRows = "tg_reduce_rows";
    public const string ReduceColumns = "tg_reduce_columns";
    public const string MaxBackward = "tg_max_backward";
    public const string IndexSelectRows = "tg_index_select_rows";
    public const string IndexAddRows = "tg_index_add_rows";
    public const string GatherColumns = "tg_gather_columns";
    public const string ScatterAddColumns = "tg_scatter_add_columns";
    public const string SgdStep = "tg_sgd_step";
    public const string AdamStep = "tg_adam_step";
    public const string Lerp = "tg_lerp";
    public const string DynamicEvaluationStep = "tg_dynamic_evaluation_step";
    public const string SumOfSquares = "tg_sum_of_squares";
    public const string ClipCoefficient = "tg_clip_coefficient";
    public const string LstmCellForward = "tg_lstm_cell_forward";
    public const string LstmCellBackward = "tg_lstm_cell_backward";
    public const string HeadLogNormalize = "tg_head_log_normalize";
    public const string HeadLogNormalizeBackward = "tg_head_log_normalize_backward";
    public const string HeadNll = "tg_head_nll";
    public const string HeadNllBackward = "tg_head_nll_backward";
    public const string MixturePosterior = "tg_mixture_posterior";
    public const string MixtureLogSumExp = "tg_mixture_logsumexp";
    public const string MixtureLogSumExpBackward = "tg_mixture_logsumexp_backward";
}
