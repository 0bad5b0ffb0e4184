namespace TinyGrad.Tests.WordLM;

// Runs code with Console.Out and Console.Error redirected to strings (only safe in the non-parallel WordLM collection).
internal static class ConsoleCapture
{
    public static (int Code, string Stdout, string Stderr) Run(Func<int> action)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            int code = action();
            return (code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
