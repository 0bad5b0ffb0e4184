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

    /// <summary>Adds the train options and action to a command (the root uses this for the no-verb default).</summary>
    public static void AttachTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var options = new TrainOptionSet();
        options.AddTo(command);
        InvariantNumbers.ApplyTo(command);
        command.SetAction(parse =>
        {
            var o = options.Read(parse);
            PathChecks.ForTraining(o, o.Save is null ? [] : [(o.Save, o.Save)]).Verify(); // before any work
            var result = Trainer.Train(o);
            if (o.MetricsJson is not null) MetricsFile.Write(o.MetricsJson, result.Metrics.ToJsonObject());
            if (o.Plot is not null) Curves.Save(o.Plot, [result.Metrics]);
            return 0;
        });
    }
}
