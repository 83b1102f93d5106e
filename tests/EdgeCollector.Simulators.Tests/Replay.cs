using System.Text;
using System.Text.Json;
using EdgeCollector.Core.Engine;
using EdgeCollector.Simulators.Plant;

namespace EdgeCollector.Simulators.Tests;

/// <summary>The shipped scenario (seed 1, 2 furnaces, 8 h) generated once, its truth file parsed, and replays of it.</summary>
public sealed class SampleShift
{
    private static readonly Lazy<SampleShift> Lazy = new(() => new SampleShift());
    private readonly Lazy<ReplayOutput> _own;
    private readonly Lazy<ReplayOutput> _site;

    private SampleShift()
    {
        Options = new ScenarioOptions();
        Result = new PlantScenario(Options).Generate();
        RecordingBytes = Bytes(Result.WriteRecording);
        TruthBytes = Bytes(Result.WriteTruth);
        Truth = Encoding.UTF8.GetString(TruthBytes).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
        _own = new(() => ReplayOutput.Run(Options, RecordingBytes, withSiteMeter: false));
        _site = new(() => ReplayOutput.Run(Options, RecordingBytes, withSiteMeter: true));
    }

    public static SampleShift Instance => Lazy.Value;

    public ScenarioOptions Options { get; }
    public ScenarioResult Result { get; }
    public byte[] RecordingBytes { get; }
    public byte[] TruthBytes { get; }
    /// <summary>Every line of the truth file, as written.</summary>
    public List<JsonElement> Truth { get; }
    /// <summary>Replay with the furnaces' own meters only (no site meters).</summary>
    public ReplayOutput OwnMeters => _own.Value;
    /// <summary>Replay with Aux.PowerTotal as a site meter.</summary>
    public ReplayOutput WithSiteMeter => _site.Value;

    public IEnumerable<JsonElement> TruthOf(string kind) => Truth.Where(t => t.GetProperty("kind").GetString() == kind);

    public static byte[] Bytes(Action<Stream> write)
    {
        using var stream = new MemoryStream();
        write(stream);
        return stream.ToArray();
    }
}

/// <summary>The engine's output for a recording, parsed.</summary>
public sealed class ReplayOutput
{
    public required List<(string Topic, JsonElement Payload)> Messages { get; init; }
    public required List<string> Log { get; init; }

    public static ReplayOutput Run(ScenarioOptions options, byte[] recording, bool withSiteMeter, double maxRatePerHour = 1e6)
    {
        var model = new PlantModel(SimPlantConfig.Build(options, withSiteMeter, maxRatePerHour));
        var lines = Encoding.UTF8.GetString(recording).Split('\n');
        var log = new List<string>();
        var messages = Replayer.Run(model, lines, log.Add)
            .Select(m => (m.Topic, JsonDocument.Parse(m.Payload).RootElement.Clone())).ToList();
        return new ReplayOutput { Messages = messages, Log = log };
    }

    /// <summary>The latest revision of each KPI message on topics ending with <paramref name="suffix"/>, by id, in first-publish order.</summary>
    public List<JsonElement> Latest(string suffix)
    {
        var byId = new Dictionary<string, JsonElement>();
        var order = new List<string>();
        foreach (var (topic, payload) in Messages.Where(m => m.Topic.EndsWith(suffix, StringComparison.Ordinal)))
        {
            string id = payload.GetProperty("id").GetString()!;
            if (!byId.ContainsKey(id))
            {
                order.Add(id);
            }

            if (!byId.TryGetValue(id, out var seen) || payload.GetProperty("rev").GetInt32() >= seen.GetProperty("rev").GetInt32())
            {
                byId[id] = payload;
            }
        }

        return order.Select(id => byId[id]).ToList();
    }

    public List<JsonElement> All(string suffix) =>
        Messages.Where(m => m.Topic.EndsWith(suffix, StringComparison.Ordinal)).Select(m => m.Payload).ToList();
}

/// <summary>Comparisons with a message naming what differs.</summary>
public static class Expect
{
    public static void Relative(double expected, double actual, double tolerance, string what)
    {
        double scale = Math.Max(Math.Abs(expected), 1e-12);
        Assert.True(Math.Abs(expected - actual) <= tolerance * scale,
            $"{what}: expected {expected:R}, engine gave {actual:R} (relative difference {Math.Abs(expected - actual) / scale:E3})");
    }

    public static void NullableRelative(JsonElement expected, JsonElement actual, double tolerance, string what)
    {
        if (expected.ValueKind == JsonValueKind.Null || actual.ValueKind == JsonValueKind.Null)
        {
            Assert.True(expected.ValueKind == actual.ValueKind, $"{what}: expected {expected}, engine gave {actual}");
            return;
        }

        Relative(expected.GetDouble(), actual.GetDouble(), tolerance, what);
    }

    public static double D(this JsonElement e, string a, string b) => e.GetProperty(a).GetProperty(b).GetDouble();

    public static string S(this JsonElement e, string name) => e.GetProperty(name).GetString()!;
}
