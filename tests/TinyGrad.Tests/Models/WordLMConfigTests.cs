namespace TinyGrad.Tests.Models;

using TinyGrad.Models;
using TinyGrad.NN.Heads;

// The config: the reference's defaults, validation with messages that say what to change, and the JSON that the
// reference's json.dumps(model.config) writes.
public class WordLMConfigTests
{
    [Theory]
    [InlineData(HeadKind.Softmax, 8)]
    [InlineData(HeadKind.Sigsoftmax, 8)]
    [InlineData(HeadKind.Mos, 12)]
    [InlineData(HeadKind.Moss, 12)]
    public void Nhidlast_defaults_as_in_the_reference(HeadKind head, int nhidlast)
    {
        var config = new WordLMConfig(30, 8, 12, 2, head, HeadKinds.IsMixture(head) ? 3 : 1);
        Assert.Equal(nhidlast, config.NHidLast);
        Assert.Equal([(8, 12), (12, nhidlast)], config.LayerSizes());
    }

    [Fact]
    public void One_layer_goes_from_emsize_straight_to_nhidlast()
    {
        Assert.Equal([(8, 8)], new WordLMConfig(30, 8, 12, 1).LayerSizes());
        Assert.Equal([(8, 12), (12, 12), (12, 8)], new WordLMConfig(30, 8, 12, 3).LayerSizes());
    }

    [Theory]
    [InlineData(0, 8, 12, 2, HeadKind.Softmax, 1, null, true, "vocab_size = 0 must be positive")]
    [InlineData(30, -1, 12, 2, HeadKind.Softmax, 1, null, false, "emsize = -1 must be positive")]
    [InlineData(30, 8, 0, 2, HeadKind.Mos, 2, null, true, "nhid = 0 must be positive")]
    [InlineData(30, 8, 12, 0, HeadKind.Softmax, 1, null, true, "nlayers = 0 must be positive")]
    [InlineData(30, 8, 12, 2, HeadKind.Softmax, 1, 0, false, "nhidlast = 0 must be positive")]
    [InlineData(30, 8, 12, 2, HeadKind.Mos, 0, null, true, "experts = 0 must be positive")]
    [InlineData(30, 8, 12, 2, HeadKind.Softmax, 3, null, true, "experts = 3 applies only to the mos and moss heads")]
    [InlineData(30, 8, 12, 2, HeadKind.Sigsoftmax, 1, 12, true, "tied weights need the decoder input size to equal emsize, but the sigsoftmax decoder reads nhidlast = 12 and emsize = 8")]
    [InlineData(30, 8, 12, 2, (HeadKind)7, 1, null, true, "unknown head 7 (expected softmax, sigsoftmax, mos or moss)")]
    public void Invalid_configs_are_rejected_with_a_clear_message(int v, int em, int nhid, int layers, HeadKind head, int experts, int? last, bool tied, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new WordLMConfig(v, em, nhid, layers, head, experts, last, tied));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("WordLM config: ", e.Message);
    }

    [Fact]
    public void Mixture_decoders_read_emsize_contexts_so_they_tie_whatever_nhidlast_is()
    {
        var config = new WordLMConfig(30, 8, 12, 2, HeadKind.Moss, 3, nHidLast: 20, tied: true);
        Assert.True(config.Tied);
        Assert.Equal(20, config.NHidLast);
        // Untied single heads may have any nhidlast.
        Assert.Equal(12, new WordLMConfig(30, 8, 12, 2, HeadKind.Softmax, nHidLast: 12, tied: false).NHidLast);
    }

    [Fact]
    public void ToJson_is_what_pythons_json_dumps_writes_for_the_reference_config()
    {
        // json.dumps(WordLM(30, 8, 12, 2, head=HeadKind.Mos, experts=3).config), verbatim.
        const string python = "{\"vocab_size\": 30, \"emsize\": 8, \"nhid\": 12, \"nhidlast\": 12, \"nlayers\": 2, \"head\": \"mos\", \"experts\": 3, \"tied\": true}";
        var config = new WordLMConfig(30, 8, 12, 2, HeadKind.Mos, 3);
        Assert.Equal(python, config.ToJson());
        Assert.Equal(config, WordLMConfig.FromJson(python));
        var untied = new WordLMConfig(30, 8, 12, 2, HeadKind.Sigsoftmax, tied: false);
        Assert.EndsWith("\"experts\": 1, \"tied\": false}", untied.ToJson());
        Assert.Equal(untied, WordLMConfig.FromJson(untied.ToJson()));
    }

    [Fact]
    public void FromJson_accepts_any_key_order_and_whitespace()
    {
        var config = WordLMConfig.FromJson("""{"tied":false,"head":"softmax","experts":1,"nlayers":3,"nhidlast":5,"nhid":7,"emsize":4,"vocab_size":9}""");
        Assert.Equal(new WordLMConfig(9, 4, 7, 3, HeadKind.Softmax, 1, 5, false), config);
    }

    [Theory]
    [InlineData(HeadKind.Softmax)]
    [InlineData(HeadKind.Sigsoftmax)]
    public void FromJson_ignores_experts_for_a_single_head_as_the_reference_does(HeadKind head)
    {
        // The reference stores the experts its constructor got and reads them only for the mixtures.
        var config = WordLMConfig.FromJson($$"""{"vocab_size": 30, "emsize": 8, "nhid": 12, "nhidlast": 8, "nlayers": 2, "head": "{{HeadKinds.Name(head)}}", "experts": 3, "tied": true}""", out string? note);
        Assert.Equal(new WordLMConfig(30, 8, 12, 2, head, 1, 8, true), config);
        Assert.Equal($"experts = 3 ignored for the {HeadKinds.Name(head)} head (as the reference does)", note);
        WordLMConfig.FromJson(config.ToJson(), out string? none);
        Assert.Null(none);
    }

    [Fact]
    public void FromJson_takes_only_the_references_exact_head_names()
    {
        // Names become the enum here: "Softmax" (the enum's own spelling) is no more a head than in the reference.
        const string json = "{\"vocab_size\": 30, \"emsize\": 8, \"nhid\": 12, \"nhidlast\": 8, \"nlayers\": 2, \"head\": \"Softmax\", \"experts\": 1, \"tied\": true}";
        var e = Assert.Throws<ArgumentException>(() => WordLMConfig.FromJson(json));
        Assert.StartsWith("WordLM config: unknown head 'Softmax' (expected softmax, sigsoftmax, mos or moss)", e.Message);
        Assert.Equal(HeadKind.Sigsoftmax, WordLMConfig.FromJson(json.Replace("Softmax", "sigsoftmax", StringComparison.Ordinal)).Head);
    }

    [Theory]
    [InlineData("{\"vocab_size\": 30", "not valid JSON")]
    [InlineData("[1, 2]", "expected a JSON object, got Array")]
    [InlineData("{\"vocab_size\": 30, \"emsize\": 8, \"nhid\": 12, \"nlayers\": 2, \"head\": \"mos\", \"experts\": 3, \"tied\": true}", "missing key(s) 'nhidlast'")]
    [InlineData("{\"vocab_size\": 30, \"emsize\": 8, \"nhid\": 12, \"nhidlast\": 8, \"nlayers\": 2, \"head\": \"mos\", \"experts\": 3, \"tied\": true, \"dropout\": 0.4}", "unknown key(s) 'dropout'")]
    [InlineData("{\"vocab_size\": 30.5, \"emsize\": 8, \"nhid\": 12, \"nhidlast\": 8, \"nlayers\": 2, \"head\": \"mos\", \"experts\": 3, \"tied\": true}", "'vocab_size' must be an integer, got 30.5")]
    [InlineData("{\"vocab_size\": 30, \"emsize\": 8, \"nhid\": 12, \"nhidlast\": 8, \"nlayers\": 2, \"head\": 1, \"experts\": 3, \"tied\": true}", "'head' must be a string, got 1")]
    [InlineData("{\"vocab_size\": 30, \"emsize\": 8, \"nhid\": 12, \"nhidlast\": 8, \"nlayers\": 2, \"head\": \"mos\", \"experts\": 3, \"tied\": 1}", "'tied' must be true or false, got 1")]
    public void FromJson_names_what_is_wrong(string json, string message)
    {
        var e = Assert.Throws<FormatException>(() => WordLMConfig.FromJson(json));
        Assert.Contains(message, e.Message);
    }
}
