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
public sealed class RecordingSource(string name, string path, ILogger log) : IInputSource
{
    public string Name { get; } = name;

    public long Rejected { get; private set; }

    public async Task RunAsync(ChannelWriter<SourceItem> writer, long? resumeAfter, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(path);
        long line = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } text)
        {
            line++;
            if (line <= (resumeAfter ?? 0) || string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            InputRecord record;
            try
            {
                record = RecordCodec.Parse(text);
            }
            catch (RecordFormatException ex)
            {
                Rejected++;
                log.LogWarning("{Source}: {Path} line {Line} rejected: {Reason}", Name, path, line, ex.Message);
                continue;
            }

            await writer.WriteAsync(new SourceItem(record, Name, line), cancellationToken);
        }
    }
}
