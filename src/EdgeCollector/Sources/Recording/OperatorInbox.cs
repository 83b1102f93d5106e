using System.Text;
using System.Text.Json;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using Microsoft.Extensions.Logging;

namespace EdgeCollector.Sources.Recording;

/// <summary>
/// Operator actions (material picks, ticket voids) reach a running collector through an append-only
/// JSON-lines file in the data dir, in the recording format of contracts.md §3 plus who did it
/// (<c>"by"</c>). The file is the audit trail — who, when, why — and the collector reads it as a
/// resumable source, so an action is applied exactly once across restarts.
/// </summary>
public static class OperatorInbox
{
    public const string FileName = "operator-actions.jsonl";

    public static string PathIn(string dataDir) => Path.Combine(dataDir, FileName);

    /// <summary>A recording source that follows the inbox as it grows.</summary>
    public static RecordingSource Source(string dataDir, ILogger log)
    {
        Directory.CreateDirectory(dataDir);
        string path = PathIn(dataDir);
        if (!File.Exists(path))
        {
            File.WriteAllBytes(path, []);
        }

        return new RecordingSource("operator", path, log, follow: true);
    }

    /// <summary>Appends one action, stamped now; returns the line written.</summary>
    public static async Task<string> AppendAsync(string dataDir, InputRecord action, string by, CancellationToken ct)
    {
        if (action is not (MaterialPickRecord or VoidRecord))
        {
            throw new ArgumentException("only material picks and voids are operator actions", nameof(action));
        }

        var node = System.Text.Json.Nodes.JsonNode.Parse(RecordCodec.Write(action))!.AsObject();
        node["by"] = by;
        string line = node.ToJsonString();
        Directory.CreateDirectory(dataDir);
        // One write of a whole line with O_APPEND: concurrent appenders never interleave within a line.
        await using var file = new FileStream(PathIn(dataDir), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        await file.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), ct);
        await file.FlushAsync(ct);
        file.Flush(flushToDisk: true);
        return line;
    }
}
