using System.CommandLine;
using TinyGrad;
using TinyGrad.Data;

namespace WordLM;

/// <summary>
/// <c>generate --checkpoint PATH [--prompt TEXT] [--words N] [--temperature T] [--seed S]</c>: samples text from a
/// checkpoint. Prints the prompt, then the sampled words; <c>&lt;eos&gt;</c> is a line break.
/// </summary>
public static class GenerateCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Build()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A WordLM safetensors checkpoint", Required = true };
        var prompt = new Option<string?>("--prompt") { Description = "Text to continue (unknown words become <unk> when the vocabulary has it); default: a new sentence" };
        var words = new Option<int>("--words") { Description = "Words to sample (<eos> counts as one)", DefaultValueFactory = _ => 50 };
        var temperature = new Option<float>("--temperature") { Description = "Sample from softmax(log p / T): below 1 sharper, above 1 flatter", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the draws", DefaultValueFactory = _ => 1 };
        words.Validators.Add(r => { int n = r.GetValueOrDefault<int>(); if (n <= 0) r.AddError($"--words must be positive, got {n}"); });
        temperature.Validators.Add(r =>
        {
            float t = r.GetValueOrDefault<float>();
            if (!(t > 0) || float.IsInfinity(t)) r.AddError($"--temperature must be a finite number > 0, got {t}");
        });
        var command = new Command("generate", "Sample text from a checkpoint.") { checkpoint, prompt, words, temperature, seed };
        InvariantNumbers.ApplyTo(command);
        command.SetAction(p =>
        {
            string path = p.GetValue(checkpoint)!;
            new PathChecks().Input("--checkpoint", path).Verify();
            var (model, vocab) = CheckpointFile.Load(path);
            var promptIds = Sampler.PromptIds(p.GetValue(prompt), vocab);
            // Condition on a sentence start, as every training sentence but the first began after an <eos>.
            int[] context = vocab.TryGetId(Vocabulary.Eos, out int eos) ? [eos, .. promptIds] : promptIds;
            if (context.Length == 0)
                throw new ArgumentException($"generate: the vocabulary has no '{Vocabulary.Eos}' to start a sentence from; give --prompt");
            // Each word is printed as it is drawn: memory stays flat and the text appears as it grows, however
            // many words are asked for. Console.Out writes through; the periodic flush covers a buffered one.
            var draws = Sampler.Draws(model, context, p.GetValue(words), p.GetValue(temperature), new Generator(p.GetValue(seed)));
            var output = new WordWriter(Console.Out);
            foreach (int id in promptIds) output.Write(vocab[id]);
            long n = 0;
            foreach (int id in draws)
            {
                output.Write(vocab[id]);
                if (++n % 256 == 0) Console.Out.Flush();
            }
            output.Finish();
            Console.Out.Flush();
            return 0;
        });
        return command;
    }
}
