using System.CommandLine;
using System.Threading.Channels;
using EdgeCollector.Core.Engine;
using EdgeCollector.Pipeline;
using Microsoft.Extensions.Logging;

namespace EdgeCollector.Cli;

/// <summary>
/// A recording must be in time order (contracts.md §3), but sources on different links deliver
/// slightly out of order: records wait <c>window</c> in a buffer and leave sorted by time; one that
/// arrives later still is written at the time of the record before it (counted), never dropped.
/// </summary>
public sealed class RecordOrder(TimeSpan window)
{
    private readonly PriorityQueue<InputRecord, (long Ticks, long Arrival)> _queue = new();
    private long _arrival;
    private long _lastWritten = long.MinValue;

    public long Restamped { get; private set; }

    public void Add(InputRecord record) => _queue.Enqueue(record, (record.Ticks, _arrival++));

    /// <summary>Records older than <paramref name="now"/> − window, in time order (arrival order for equal times).</summary>
    public IEnumerable<InputRecord> TakeReady(long now)
    {
        long cutoff = now == long.MaxValue ? long.MaxValue : now - window.Ticks;
        while (_queue.TryPeek(out var record, out var key) && key.Ticks <= cutoff)
        {
            _queue.Dequeue();
            if (record.Ticks < _lastWritten)
            {
                Restamped++;
                record = record with { Ticks = _lastWritten };
            }

            _lastWritten = record.Ticks;
            yield return record;
        }
    }
}

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
            var order = new RecordOrder(TimeSpan.FromSeconds(2));
            try
            {
                var reading = channel.Reader.WaitToReadAsync(ct).AsTask();
                while (true)
                {
                    await Task.WhenAny(reading, Task.Delay(TimeSpan.FromMilliseconds(500), ct));
                    if (reading.IsCompleted)
                    {
                        if (!await reading)
                        {
                            break;   // every source has ended
                        }

                        while (channel.Reader.TryRead(out var item))
                        {
                            order.Add(item.Record);
                        }

                        reading = channel.Reader.WaitToReadAsync(ct).AsTask();
                    }

                    foreach (var record in order.TakeReady(DateTimeOffset.UtcNow.UtcTicks))
                    {
                        await file.WriteLineAsync(RecordCodec.Write(record));
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }

            foreach (var record in order.TakeReady(long.MaxValue))
            {
                await file.WriteLineAsync(RecordCodec.Write(record));
            }

            if (order.Restamped > 0)
            {
                logs.CreateLogger("EdgeCollector.Record").LogWarning("{Count} record(s) arrived more than 2 s late and were written at the time of the record before them", order.Restamped);
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
