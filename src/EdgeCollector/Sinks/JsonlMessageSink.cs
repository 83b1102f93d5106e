using EdgeCollector.Core.Engine;
using EdgeCollector.Pipeline;

namespace EdgeCollector.Sinks;

/// <summary>
/// Appends every message as one <c>{"topic","payload"}</c> line (contracts.md §3) to a file under
/// the data dir: the uplink until the MQTT sink is configured, and an audit trail after.
/// </summary>
public sealed class JsonlMessageSink(string path) : IMessageSink
{
    private bool _tailChecked;

    public string Name => "jsonl";

    public string Path { get; } = path;

    public async Task DeliverAsync(IReadOnlyList<StoredMessage> messages, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        await using var file = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 65536, useAsync: true);
        if (!_tailChecked)
        {
            // A process killed mid-write leaves a torn last line. Its message is still in the
            // outbox (rows are deleted only after this returns), so cut the fragment and write it again.
            await TruncateTornTailAsync(file, cancellationToken);
            _tailChecked = true;
        }

        file.Seek(0, SeekOrigin.End);
        foreach (var m in messages)
        {
            await file.WriteAsync(RecordCodec.OutputLine(new OutgoingMessage(m.Topic, m.Payload, m.Id, m.Rev, m.Seq, m.Retain)), cancellationToken);
            file.WriteByte((byte)'\n');
        }

        await file.FlushAsync(cancellationToken);
        // The outbox row is deleted after this returns: the line must be on disk first.
        file.Flush(flushToDisk: true);
    }

    internal static async Task TruncateTornTailAsync(FileStream file, CancellationToken cancellationToken)
    {
        long length = file.Length;
        if (length == 0)
        {
            return;
        }

        var buffer = new byte[4096];
        long end = length;
        while (end > 0)
        {
            int chunk = (int)Math.Min(buffer.Length, end);
            file.Seek(end - chunk, SeekOrigin.Begin);
            await file.ReadExactlyAsync(buffer.AsMemory(0, chunk), cancellationToken);
            int newline = Array.LastIndexOf(buffer, (byte)'\n', chunk - 1, chunk);
            if (newline >= 0)
            {
                long keep = end - chunk + newline + 1;
                if (keep < length)
                {
                    file.SetLength(keep);
                }

                return;
            }

            end -= chunk;
        }

        file.SetLength(0);
    }
}
