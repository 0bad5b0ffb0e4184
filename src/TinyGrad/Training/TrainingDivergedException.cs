namespace TinyGrad.Training;

/// <summary>
/// The training loss, the gradient norm or the validation loss became NaN or infinite. The message names the step
/// and suggests a lower learning rate; the program reports it on one line with exit code 1 (a failed run, not bad input).
/// </summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
