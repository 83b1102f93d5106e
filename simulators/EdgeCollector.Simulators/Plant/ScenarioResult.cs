using System.Text;
using EdgeCollector.Core.Engine;

namespace EdgeCollector.Simulators.Plant;

/// <summary>What a <see cref="PlantScenario"/> produced: the recording and the plan behind it.</summary>
public sealed class ScenarioResult
{
    private GroundTruth? _truth;

    internal ScenarioResult(ScenarioOptions options, IReadOnlyList<FurnaceRun> furnaces, MeterSeries aux, IReadOnlyList<InputRecord> records)
    {
        Options = options;
        Furnaces = furnaces;
        Aux = aux;
        Records = records;
    }

    /// <summary>The options the scenario ran with.</summary>
    public ScenarioOptions Options { get; }

    /// <summary>Each furnace's plan: loads, picks, phases, meters.</summary>
    public IReadOnlyList<FurnaceRun> Furnaces { get; }

    /// <summary>The site's auxiliary electricity meter (<c>Aux.PowerTotal</c>).</summary>
    public MeterSeries Aux { get; }

    /// <summary>The recording, in time order.</summary>
    public IReadOnlyList<InputRecord> Records { get; }

    /// <summary>The ground truth, computed from the scenario's own model.</summary>
    public GroundTruth Truth => _truth ??= GroundTruth.Compute(this);

    /// <summary>The recording as contracts.md §3 lines.</summary>
    public IEnumerable<string> RecordingLines() => Records.Select(RecordCodec.Write);

    /// <summary>Writes the recording as UTF-8 JSON lines (LF, no BOM).</summary>
    public void WriteRecording(Stream stream)
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        foreach (string line in RecordingLines())
        {
            writer.Write(line);
            writer.Write('\n');
        }
    }

    /// <summary>Writes the ground truth as UTF-8 JSON lines (LF, no BOM).</summary>
    public void WriteTruth(Stream stream) => Truth.Write(stream);
}
