using System.Threading.Channels;
using EdgeCollector.Core.Engine;

namespace EdgeCollector.Pipeline;

// The collector, end to end:
//
//   sources (Sources/<kind>/)            one task each; a failing source backs off and retries alone
//      │  SourceItem(record, source, position)
//      ▼
//   Channel<SourceItem> (bounded)         back-pressure: a slow engine slows the sources, never drops
//      │
//      ▼
//   EngineService                         the only writer of engine state; time comes from records
//      │  every ≤ 1 s, ONE SQLite transaction: engine state + new messages + source positions
//      ▼
//   StateStore (data dir/engine.db)       a crash loses nothing already committed; a restart resumes
//      │                                   from the committed state and re-reads what came after
//      ▼
//   MessageForwarder                      oldest first; deletes a message only after every sink took it
//      ▼
//   IMessageSink: JSONL file, MQTT outbox (Sinks/)
//
// Each box is one folder; the engine (EdgeCollector.Core) has no I/O at all.

/// <summary>One input read by a source, with the position to resume after it (−1: a live source that cannot resume).</summary>
public readonly record struct SourceItem(InputRecord Record, string Source, long Position);

/// <summary>A source of input records (a device driver or a recording).</summary>
public interface IInputSource
{
    string Name { get; }

    /// <summary>True for a source that ends by itself (a recording); device links and followed files run until stopped.</summary>
    bool IsFinite => false;

    /// <summary>Reads until cancelled (or, for finite sources, until the end), writing records to <paramref name="writer"/>.</summary>
    /// <param name="resumeAfter">The last position committed by the engine, for sources that can resume (recordings); null at first start.</param>
    Task RunAsync(ChannelWriter<SourceItem> writer, long? resumeAfter, CancellationToken cancellationToken);
}

/// <summary>What a source tells about its link: for metrics and the dashboard's health view.</summary>
public interface ISourceDiagnostics
{
    /// <summary>Successful connects or opens of the link since start (more than one = reconnects).</summary>
    long Connects { get; }

    /// <summary>Rejected frames, timeouts, Bad or out-of-range values and failed attempts since start.</summary>
    long Errors { get; }
}

/// <summary>A consumer of published messages; must be idempotent per (id, rev) since delivery is at-least-once.</summary>
public interface IMessageSink
{
    string Name { get; }

    Task DeliverAsync(IReadOnlyList<StoredMessage> messages, CancellationToken cancellationToken);
}

/// <summary>Sees every record the engine applies (raw series for InfluxDB); must not block.</summary>
public interface IRecordObserver
{
    void OnRecord(InputRecord record, string source);
}

/// <summary>A message as committed in the state store's outbox.</summary>
public sealed record StoredMessage(long Seq, string Topic, byte[] Payload, string Id, int Rev, bool Retain);

/// <summary>Counters the operations endpoints export.</summary>
public sealed class PipelineMetrics
{
    public long RecordsIn;
    public long LateRestamped;
    public long BadInput;
    public long Checkpoints;
    public long MessagesForwarded;
    public long SinkFailures;
}
