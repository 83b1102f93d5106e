using System.Runtime.InteropServices;

namespace EdgeCollector.Simulators;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // SIGTERM and Ctrl+C stop the live plant cleanly (devices closed, truth of what was served written).
        using var stop = new CancellationTokenSource();
        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        if (args is ["plant", ..])
        {
            return await Live.PlantCommand.RunAsync(args[1..], Console.Out, Console.Error, stop.Token);
        }

        if (args is ["compare", ..])
        {
            return Live.CompareCommand.Run(args[1..], Console.Out, Console.Error);
        }

        return SimCli.Run(args, Console.Out, Console.Error);
    }
}
