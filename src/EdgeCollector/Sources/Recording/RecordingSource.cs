using System.Buffers;
using System.Text;
using System.Threading.Channels;
using EdgeCollector.Core.Engine;
using EdgeCollector.Pipeline;
using Microsoft.Extensions.Logging;

namespace EdgeCollector.Sources.Recording;

/// <summary>
/// Feeds a recorded JSON-lines file (contracts.md §3) as a source: the position is the line
/// number, so a restarted collector resumes after the last line it committed. A malformed line is
/// logged, counted and skipped — a live service keeps going (replay, by contrast, stops on it).
/// </summary>
/// <param name="follow">Keep reading as the file grows (like <c>tail -f</c>); only lines ended by a newline are read.</param>
public sealed class RecordingSource(string name, string path, ILogger log, bool follow = false) : IInputSource, ISourceDiagnostics
{
    public string Name { get; } = name;

    public long Rejected { get; private set; }

    public bool IsFinite => !follow;

    public long Connects => 0;

    public long Errors => Rejected;

    public async Task RunAsync(ChannelWriter<SourceItem> writer, long? resumeAfter, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 65536, useAsync: true);
        var buffer = new byte[65536];
        var carry = new ArrayBufferWriter<byte>();
        long line = 0;
        while (true)
        {
            int n = await stream.ReadAsync(buffer, cancellationToken);
            if (n == 0)
            {
                if (follow)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
                    continue;
                }

                if (carry.WrittenCount > 0)
                {
                    // A finished recording's last line needs no newline.
                    await HandleAsync(carry.WrittenSpan.ToArray(), ++line);
                }

                return;
            }

            var span = buffer.AsMemory(0, n);
            int newline;
            while ((newline = span.Span.IndexOf((byte)'\n')) >= 0)
            {
                byte[] bytes;
                if (carry.WrittenCount > 0)
                {
                    carry.Write(span.Span[..newline]);
                    bytes = carry.WrittenSpan.ToArray();
                    carry.ResetWrittenCount();
                }
                else
                {
                    bytes = span.Span[..newline].ToArray();
                }

                await HandleAsync(bytes, ++line);
                span = span[(newline + 1)..];
            }

            carry.Write(span.Span);
        }

        async Task HandleAsync(byte[] bytes, long number)
        {
            if (number <= (resumeAfter ?? 0))
            {
                return;
            }

            string text = Encoding.UTF8.GetString(bytes).TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(text))
            {
                return;
            }

            InputRecord record;
            try
            {
                record = RecordCodec.Parse(text);
            }
            catch (RecordFormatException ex)
            {
                Rejected++;
                log.LogWarning("{Source}: {Path} line {Line} rejected: {Reason}", Name, path, number, ex.Message);
                return;
            }

            await writer.WriteAsync(new SourceItem(record, Name, number), cancellationToken);
        }
    }
}
