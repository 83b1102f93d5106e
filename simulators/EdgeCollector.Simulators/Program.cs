namespace EdgeCollector.Simulators;

internal static class Program
{
    public static int Main(string[] args) => SimCli.Run(args, Console.Out, Console.Error);
}
