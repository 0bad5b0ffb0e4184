using System.CommandLine;

namespace WordLM;

/// <summary>The <c>train</c> verb, and the root command's default action (no verb means train).</summary>
public static class TrainCommand
{
    /// <summary>A <c>train</c> subcommand.</summary>
    public static Command Build(string name, string description)
    {
        var command = new Command(name, description);
        AttachTo(command);
        return command;
    }

    /// <summary>Where the no-verb run keeps its model when no <c>--save</c> is given, so that <c>generate</c> and <c>rank</c> work on it next.</summary>
    public const string DefaultSave = "wordlm.safetensors";

    /// <summary>
    /// Adds the train options and action to a command. The root uses this for the no-verb default with
    /// <paramref name="saveByDefault"/>: a newcomer's first run keeps its model in <see cref="DefaultSave"/>.
    /// </summary>
    public static void AttachTo(Command command, bool saveByDefault = false)
    {
        ArgumentNullException.ThrowIfNull(command);
        var options = new TrainOptionSet();
        options.AddTo(command);
        InvariantNumbers.ApplyTo(command);
        command.SetAction(parse =>
        {
            var o = options.Read(parse);
            if (saveByDefault && o.Save is null) o = o with { Save = DefaultSave };
            PathChecks.ForTraining(o, o.Save is null ? [] : [(o.Save, o.Save)]).Verify(); // before any work
            var result = Trainer.Train(o);
            if (o.MetricsJson is not null) MetricsFile.Write(o.MetricsJson, result.Metrics.ToJsonObject());
            if (o.Plot is not null) Curves.Save(o.Plot, [result.Metrics]);
            return 0;
        });
    }
}
