using EdgeCollector.Cli;

namespace EdgeCollector;

internal static class Program
{
    public static Task<int> Main(string[] args) => CommandLine.Build().Parse(args).InvokeAsync();
}
