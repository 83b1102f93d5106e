using EdgeCollector.Core.Engine;
using EdgeCollector.Pipeline;

namespace EdgeCollector.Sinks;

/// <summary>
/// Appends every message as one <c>{"topic","payload"}</c> line (contracts.md §3) to a file under
/// the data dir: the uplink until the MQTT sink is configured, and an audit trail after.
/// </summary>
public sealed class JsonlMessageSink(string path) : IMessageSink
{
    public string Name => "jsonl";

    public string Path { get; } = path;

    public async Task DeliverAsync(IReadOnlyList<StoredMessage> messages, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        await using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read, 65536, useAsync: true);
        foreach (var m in messages)
        {
            await file.WriteAsync(RecordCodec.OutputLine(new OutgoingMessage(m.Topic, m.Payload, m.Id, m.Rev, m.Seq, m.Retain)), cancellationToken);
            file.WriteByte((byte)'\n');
        }

        await file.FlushAsync(cancellationToken);
        // The outbox row is deleted after this returns: the line must be on disk first.
        file.Flush(flushToDisk: true);
    }
}
