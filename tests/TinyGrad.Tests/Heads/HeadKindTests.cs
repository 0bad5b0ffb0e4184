namespace TinyGrad.Tests.Heads;

using TinyGrad;
using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.NN.Heads;
using TinyGrad.Training;

// The head kind is an enum inside the code; the reference's names are its only text, and they must not drift:
// checkpoints, metrics files and training states written before the enum (and by the PyTorch reference) hold them.
public class HeadKindTests
{
    [Theory]
    [InlineData(HeadKind.Softmax, "softmax", false, Normalizer.Softmax)]
    [InlineData(HeadKind.Sigsoftmax, "sigsoftmax", false, Normalizer.Sigsoftmax)]
    [InlineData(HeadKind.Mos, "mos", true, Normalizer.Softmax)]
    [InlineData(HeadKind.Moss, "moss", true, Normalizer.Sigsoftmax)]
    public void Each_kind_has_the_references_name_and_its_properties(HeadKind kind, string name, bool mixture, Normalizer normalizer)
    {
        Assert.Equal(name, HeadKinds.Name(kind));
        Assert.Equal(kind, HeadKinds.Parse(name));
        Assert.True(HeadKinds.TryParse(name, out var parsed));
        Assert.Equal(kind, parsed);
        Assert.Equal(mixture, HeadKinds.IsMixture(kind));
        Assert.Equal(normalizer, HeadKinds.NormalizerOf(kind));
        // The head built for the kind agrees with the helper.
        var head = OutputHead.Create(kind, 4, 7, new Generator(0), embeddingSize: 3, experts: 2);
        Assert.Equal(kind, head.Kind);
        Assert.Equal(normalizer, head.Normalizer);
        Assert.Equal(mixture, head is MixtureHead);
    }

    [Fact]
    public void All_lists_every_kind_in_the_papers_order()
    {
        Assert.Equal(Enum.GetValues<HeadKind>(), HeadKinds.All);
        Assert.Equal(["softmax", "sigsoftmax", "mos", "moss"], HeadKinds.All.Select(HeadKinds.Name));
    }

    [Theory]
    [InlineData("softmaxx")]
    [InlineData("Softmax")] // the enum's spelling is not a name: the reference compares exactly
    [InlineData(" mos")]
    [InlineData("")]
    public void Parse_rejects_anything_but_the_four_names_and_lists_them(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => HeadKinds.Parse(name));
        Assert.StartsWith($"unknown head '{name}' (expected softmax, sigsoftmax, mos or moss)", e.Message);
        Assert.False(HeadKinds.TryParse(name, out _));
        Assert.False(HeadKinds.TryParse(null, out _));
    }

    [Fact]
    public void A_value_outside_the_enum_is_refused_not_guessed()
    {
        var bad = (HeadKind)4;
        Assert.Throws<ArgumentOutOfRangeException>(() => HeadKinds.Name(bad));
        Assert.Throws<ArgumentOutOfRangeException>(() => HeadKinds.IsMixture(bad));
        Assert.Throws<ArgumentOutOfRangeException>(() => HeadKinds.NormalizerOf((HeadKind)(-1)));
    }

    [Fact]
    public void The_run_identity_keeps_the_heads_name_as_the_state_file_stores_it()
    {
        var corpus = SyntheticCorpus.Generate(seed: 1, vocabSize: 20, trainTokens: 200, validTokens: 50, testTokens: 50);
        var config = new WordLMConfig(corpus.VocabSize, 4, 8, 1, HeadKind.Moss, experts: 2);
        var identity = RunIdentity.Of(new TrainingOptions(), config, TokenSplits.From(corpus));
        Assert.Equal("moss", identity["--head"]);
    }
}
