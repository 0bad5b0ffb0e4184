namespace TinyGrad.Tests.Inspection;

using TinyGrad;
using TinyGrad.Inspection;
using TinyGrad.Models;
using TinyGrad.NN;

public class AblationTests
{
    [Fact]
    public void Ablating_a_unit_zeroes_that_unit_alone_and_the_change_downstream_is_that_units_contribution()
    {
        var g = new Generator(1);
        var lstm = new LSTM(3, 5, 1, g);
        var decoder = new Linear(5, 4, g);
        var x = Tensor.Randn([3, 2, 3], new Generator(2));
        using var _ = Autograd.NoGrad();
        var h = lstm.Forward(x).Output;
        var y = decoder.Forward(h);
        const int unit = 2;
        Tensor hAblated, yAblated;
        using (UnitMask.Ablate(lstm, unit))
        {
            hAblated = lstm.Forward(x).Output;
            yAblated = decoder.Forward(hAblated);
        }

        // The layer's output: unit 2 is zero, every other element keeps its exact bits.
        var (hv, hav) = (h.ToArray(), hAblated.ToArray());
        for (int i = 0; i < hv.Length; i++) Assert.Equal(i % 5 == unit ? 0f : hv[i], hav[i]);
        // Downstream, the whole change is that unit's term: y − y' = h[:, unit] ⊗ W[:, unit].
        var (yv, yav, w) = (y.ToArray(), yAblated.ToArray(), decoder.Weight.ToArray());
        for (int row = 0; row < 6; row++)
            for (int o = 0; o < 4; o++)
                Assert.Equal(hv[row * 5 + unit] * w[o * 5 + unit], yv[row * 4 + o] - yav[row * 4 + o], 5);
    }

    [Fact]
    public void Removing_the_ablation_restores_the_models_numbers_exactly()
    {
        var model = new WordLM(new WordLMConfig(20, 6, 8, 2), new Generator(3));
        model.Eval();
        int[] inputs = [1, 5, 7, 3, 2, 9, 11, 4];
        int[] targets = [5, 7, 3, 2, 9, 11, 4, 1];
        float Loss()
        {
            using var _ = Autograd.NoGrad();
            var (hidden, _, _, _) = model.Forward(inputs, 4, 2);
            return model.Nll(hidden, targets).Item();
        }
        float before = Loss();
        var handle = UnitMask.Ablate(model.Rnns[0], 1, 6);
        float ablated = Loss();
        handle.Remove();
        float after = Loss();
        Assert.NotEqual(before, ablated);
        Assert.Equal(BitConverter.SingleToInt32Bits(before), BitConverter.SingleToInt32Bits(after));
    }

    [Fact]
    public void No_gradient_passes_through_an_ablated_unit()
    {
        var x = Tensor.Randn([2, 3, 4], new Generator(1)).RequireGrad();
        (UnitMask.Zero(x, 0, 3) * x).Sum().Backward(); // d/dx (m·x²) = 2·m·x
        var (xv, gv) = (x.ToArray(), x.Grad!.ToArray());
        for (int i = 0; i < xv.Length; i++) Assert.Equal(i % 4 is 0 or 3 ? 0f : 2 * xv[i], gv[i], 5);
    }

    [Fact]
    public void Ablation_inside_a_cell_also_removes_the_unit_from_the_recurrence()
    {
        var lstm = new LSTM(2, 3, 1, new Generator(1));
        var x = Tensor.Randn([4, 1, 2], new Generator(2));
        using var _ = Autograd.NoGrad();
        var cell = LSTMCell.FromLayer(lstm);
        var plain = cell.Unroll(x);
        Tensor outsideRecurrence, insideRecurrence;
        using (UnitMask.Ablate(lstm, 0)) outsideRecurrence = lstm.Forward(x).Output;
        using (UnitMask.Ablate(cell, 0)) insideRecurrence = cell.Unroll(x).Output;
        // Step 0 reads h0 = 0 either way; from step 1 on, the other units differ once unit 0 no longer feeds back.
        Assert.Equal(0f, insideRecurrence.ToArray()[0]);
        Assert.Equal(plain.Output.ToArray()[1], outsideRecurrence.ToArray()[1], 5);
        Assert.NotEqual(plain.Output.ToArray()[3 + 1], insideRecurrence.ToArray()[3 + 1]);
    }

    [Fact]
    public void A_unit_out_of_range_is_refused_with_the_outputs_shape()
    {
        var linear = new Linear(2, 3, new Generator(1));
        using var _ = UnitMask.Ablate(linear, 3);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => linear.Forward(Tensor.Ones(1, 2)));
        Assert.Contains("[0, 3)", e.Message);
        Autograd.ClearTape();
    }
}
