using System.CommandLine;
using System.Threading.Channels;
using EdgeCollector.Core.Engine;
using EdgeCollector.Pipeline;
using Microsoft.Extensions.Logging;

namespace EdgeCollector.Cli;

/// <summary><c>edgecollector record</c> (contracts.md §3): append every accepted input to a JSON-lines file.</summary>
public static class RecordCommand
{
    public static readonly Option<string> OutOption = new("--out") { Description = "File to append records to (JSON lines).", Required = true };

    public static Command Build()
    {
        var command = new Command("record", "Read the configured sources and append every accepted input to a JSON-lines recording, until stopped.");
        CommandLine.AddConfigOptions(command);
        command.Options.Add(OutOption);
        command.SetAction(async (parse, ct) =>
        {
            var config = CommandLine.LoadConfig(parse, Console.Error);
            if (config is null)
            {
                return ExitCodes.BadInput;
            }

            using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            var (sources, errors) = SourceFactory.Create(config, logs);
            foreach (var e in errors)
            {
                await Console.Error.WriteLineAsync(e);
            }

            if (errors.Count > 0)
            {
                return ExitCodes.BadInput;
            }

            var channel = Channel.CreateBounded<SourceItem>(10_000);
            var running = sources.Select(s => s.RunAsync(channel.Writer, null, ct)).ToArray();
            _ = Task.WhenAll(running).ContinueWith(_ => channel.Writer.TryComplete(), TaskScheduler.Default);
            // Flushed line by line: a recording is an audit trail, and a stop (or a kill) keeps every line written so far.
            await using var file = new StreamWriter(parse.GetValue(OutOption)!, append: true) { AutoFlush = true };
            try
            {
                await foreach (var item in channel.Reader.ReadAllAsync(ct))
                {
                    await file.WriteLineAsync(RecordCodec.Write(item.Record));
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
