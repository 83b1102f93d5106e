using System.Text.Json;

namespace EdgeCollector.Simulators.Live;

/// <summary><c>edgecollector-sim compare --truth T --messages M [--markdown FILE]</c>: published KPIs next to the ground truth.</summary>
public static class CompareCommand
{
    /// <summary>Usage text.</summary>
    public const string Usage =
        "usage: edgecollector-sim compare --truth truth.jsonl --messages captured.jsonl [--markdown out.md]\n" +
        "  captured.jsonl: `mosquitto_sub -F %j` output or `edgecollector demo --out` lines ({\"topic\",\"payload\"}).\n" +
        "  Prints OK / FLAGGED / WRONG per heat and shift KPI; exit 0 when none is WRONG or MISSING, 1 otherwise.";

    /// <summary>Runs the verb.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        string? truth = null, messages = null, markdown = null;
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : "";
            switch (args[i])
            {
                case "--truth": truth = Value(); break;
                case "--messages": messages = Value(); break;
                case "--markdown": markdown = Value(); break;
                case "-h" or "--help":
                    stdout.WriteLine(Usage);
                    return 0;
                default:
                    stderr.WriteLine($"unknown option '{args[i]}'");
                    stderr.WriteLine(Usage);
                    return 2;
            }
        }

        if (string.IsNullOrEmpty(truth) || string.IsNullOrEmpty(messages) || !File.Exists(truth) || !File.Exists(messages))
        {
            stderr.WriteLine("--truth and --messages must name existing files");
            stderr.WriteLine(Usage);
            return 2;
        }

        var truthLines = File.ReadLines(truth).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        var captured = TruthComparison.ReadMessages(File.ReadLines(messages), out int skipped);
        var result = TruthComparison.Compare(truthLines, captured);
        stdout.Write(result.Summary());
        if (skipped > 0)
        {
            stdout.WriteLine($"({skipped} unreadable line(s) in {messages} skipped)");
        }

        if (markdown is not null)
        {
            File.WriteAllText(markdown, result.ToMarkdown());
        }

        return result.Kpis.All(k => k.Ok || k.Flagged) && result.Unpublished.Count == 0 ? 0 : 1;
    }
}
