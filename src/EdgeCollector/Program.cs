using System.CommandLine;
using System.Runtime.InteropServices;
using EdgeCollector.Cli;

namespace EdgeCollector;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // SIGTERM (systemd, docker stop) and SIGINT (Ctrl+C) cancel the verb's token: every verb stops
        // gracefully — the collector commits its state, record flushes its buffer — and exits normally.
        using var stop = new CancellationTokenSource();
        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        return await CommandLine.Build().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, stop.Token);
    }
}
