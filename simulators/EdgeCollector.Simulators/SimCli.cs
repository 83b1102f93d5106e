using System.Globalization;
using EdgeCollector.Simulators.Plant;

namespace EdgeCollector.Simulators;

/// <summary>
/// The <c>edgecollector-sim</c> command line:
/// <c>generate [--seed N] [--furnaces N] [--hours H] [--start ISO-8601] [--out FILE] [--truth FILE] [--time-zone TZ]</c>.
/// </summary>
public static class SimCli
{
    /// <summary>Usage text.</summary>
    public const string Usage =
        "usage: edgecollector-sim generate [--seed N] [--furnaces N] [--hours H] [--start 2026-11-20T00:00:00Z]\n" +
        "                                  [--out recording.jsonl] [--truth truth.jsonl] [--time-zone Asia/Shanghai]\n" +
        "  Writes a deterministic melt-shop recording (contracts.md §3) and its ground truth (JSON lines).\n" +
        "  --truth defaults to the --out name with .truth.jsonl in place of .jsonl.\n" +
        "       edgecollector-sim plant [--speed N] … (the live plant; `edgecollector-sim plant --help`)";

    /// <summary>Runs the command line; returns the process exit code (0 ok, 2 bad arguments).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            stdout.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        if (args[0] != "generate")
        {
            stderr.WriteLine($"unknown command '{args[0]}'");
            stderr.WriteLine(Usage);
            return 2;
        }

        var options = new ScenarioOptions();
        string output = "recording.jsonl";
        string? truth = null;
        try
        {
            for (int i = 1; i < args.Length; i++)
            {
                string name = args[i];
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value");
                switch (name)
                {
                    case "--seed":
                        options = options with { Seed = int.Parse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture) };
                        break;
                    case "--furnaces":
                        options = options with { Furnaces = int.Parse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture) };
                        break;
                    case "--hours":
                        options = options with { Duration = TimeSpan.FromHours(double.Parse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture)) };
                        break;
                    case "--start":
                        string text = Value();
                        if (!text.EndsWith('Z') && !text.Contains('+', StringComparison.Ordinal))
                        {
                            throw new ArgumentException($"--start '{text}' must carry a zone (Z or +hh:mm)");
                        }

                        options = options with { Start = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture).ToUniversalTime() };
                        break;
                    case "--out":
                        output = Value();
                        break;
                    case "--truth":
                        truth = Value();
                        break;
                    case "--time-zone":
                        options = options with { TimeZone = Value() };
                        break;
                    default:
                        throw new ArgumentException($"unknown option '{name}'");
                }
            }

            options.Validate();
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException or TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            stderr.WriteLine(ex.Message);
            stderr.WriteLine(Usage);
            return 2;
        }

        truth ??= output.EndsWith(".jsonl", StringComparison.Ordinal) ? output[..^".jsonl".Length] + ".truth.jsonl" : output + ".truth.jsonl";
        var result = new PlantScenario(options).Generate();
        WriteAtomically(output, result.WriteRecording);
        WriteAtomically(truth, result.WriteTruth);

        var closed = result.Truth.Heats.Count(h => h.Close is not null);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {result.Records.Count} records to {output} and the ground truth ({result.Truth.Tickets.Count} tickets, {closed} closed heats of {result.Truth.Heats.Count}, {result.Truth.Shifts.Count} shift windows) to {truth}"));
        return 0;
    }

    /// <summary>Writes through a temporary file so a reader never sees half a file.</summary>
    private static void WriteAtomically(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string temp = full + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            write(stream);
        }

        File.Move(temp, full, overwrite: true);
    }
}
