using System.Diagnostics;
using BenchmarkDotNet.Running;

namespace EdgeCollector.Benchmarks;

internal static class Program
{
    /// <summary>
    /// <c>dotnet run -c Release --project bench/EdgeCollector.Benchmarks -- --filter *</c> runs BenchmarkDotNet;
    /// <c>-- quick</c> prints a one-shot figure for a smoke check.
    /// </summary>
    public static int Main(string[] args)
    {
        if (args is ["quick"])
        {
            var b = new EngineThroughput();
            b.Setup();
            b.ApplySamples();
            var sw = Stopwatch.StartNew();
            long published = b.ApplySamples();
            sw.Stop();
            Console.WriteLine($"engine: {EngineThroughput.SampleCount / sw.Elapsed.TotalSeconds:N0} samples/s ({EngineThroughput.SampleCount:N0} samples, {published} KPI messages, {sw.Elapsed.TotalMilliseconds:N0} ms)");
            return 0;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
