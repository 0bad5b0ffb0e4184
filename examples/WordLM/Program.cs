using System.CommandLine;
using TinyGrad.Data;
using TinyGrad.IO;
using TinyGrad.Models;
using TinyGrad.NN;
using TinyGrad.Training;

namespace WordLM;

/// <summary>
/// The word-level language-model trainer. <c>dotnet run -c Release --project examples/WordLM</c> with no
/// arguments trains a sigsoftmax LSTM on the built-in synthetic corpus and prints its perplexity beside the
/// corpus's exact optimum. Verbs: <c>train</c> (the default), <c>eval</c>, <c>generate</c>, <c>rank</c> and <c>compare</c>.
/// </summary>
public static class Program
{
    /// <summary>Parses the command line and runs the verb; exit code 2 for bad input, 1 for a failed run.</summary>
    public static int Main(string[] args)
    {
        var root = new RootCommand("Train, evaluate, sample from and compare word-level LSTM language models (softmax, sigsoftmax, MoS, MoSS heads).");
        var train = TrainCommand.Build("train", "Train a model (the default verb).");
        root.Subcommands.Add(train);
        root.Subcommands.Add(EvalCommand.Build());
        root.Subcommands.Add(GenerateCommand.Build());
        root.Subcommands.Add(RankCommand.Build());
        root.Subcommands.Add(CompareCommand.Build());
        TrainCommand.AttachTo(root, saveByDefault: true); // no verb: train with these options, keeping the model

        ParseResult parse;
        try
        {
            parse = root.Parse(args);
        }
        catch (InvalidOperationException e)
        {
            // A validator that reads a value which does not convert (e.g. --epochs many) makes System.CommandLine
            // throw "Cannot parse argument ..." instead of reporting a parse error: the same one line, exit code 2.
            Console.Error.WriteLine($"wordlm: {OneLine(e.Message)} (see --help)");
            return 2;
        }
        if (parse.Errors.Count > 0)
        {
            // One line, whatever the parser's message looks like (its list of allowed values spans several).
            Console.Error.WriteLine($"wordlm: {OneLine(parse.Errors[0].Message)} (see --help)");
            return 2;
        }
        try
        {
            // Our own handler below turns input errors into one line and exit code 2 (the default prints a stack trace).
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is ArgumentException or CorpusException or SafeTensorsException or CheckpointException or FileNotFoundException
                                       or DirectoryNotFoundException or PathTooLongException or UnauthorizedAccessException or StateDictException)
        {
            // About what the user gave: a file that cannot be read, a state that does not fit the model, ...
            Console.Error.WriteLine($"wordlm: {OneLine(e.Message)}");
            return 2;
        }
        catch (Exception e) when (e is TrainingDivergedException or RankUndefinedException)
        {
            Console.Error.WriteLine($"wordlm: {OneLine(e.Message)}");
            return 1;
        }
        catch (Exception e)
        {
            // Anything else (a full disk, a bug) still ends in one line: the run failed, and a stack trace helps
            // no one at the command line. The message of an I/O error names the file already.
            Console.Error.WriteLine($"wordlm: {OneLine(e.Message)}");
            return 1;
        }
    }

    /// <summary>A message on one line: line breaks and tabs become single spaces.</summary>
    internal static string OneLine(string message) => string.Join(" ", message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
}
