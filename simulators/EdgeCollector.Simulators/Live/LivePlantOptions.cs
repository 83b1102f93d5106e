using EdgeCollector.Simulators.Plant;

namespace EdgeCollector.Simulators.Live;

/// <summary>How <see cref="LivePlant"/> plays a <see cref="PlantScenario"/> on its devices.</summary>
public sealed record LivePlantOptions
{
    /// <summary>The scenario played.</summary>
    public ScenarioOptions Scenario { get; init; } = new() { MinSettleReadings = LiveSettleReadings };

    /// <summary>The settle floor of live scenarios (see <see cref="ScenarioOptions.MinSettleReadings"/>).</summary>
    public const int LiveSettleReadings = 8;

    /// <summary>Simulated seconds per wall second (1 = real time).</summary>
    public double Speed { get; init; } = 60;

    /// <summary>
    /// Wall time between start and the scenario's first instant, so a collector started after the
    /// plant sees the whole scenario (the clock holds at the scenario start until then).
    /// </summary>
    public TimeSpan Lead { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Serve the auxiliary meter over Modbus RTU on a socat pty pair (when socat is installed); else over Modbus TCP.</summary>
    public bool AuxOverRtu { get; init; } = true;

    /// <summary>OPC UA port (0 = free port).</summary>
    public int OpcUaPort { get; init; }

    /// <summary>Modbus TCP port (0 = free port).</summary>
    public int ModbusPort { get; init; }

    /// <summary>
    /// Where the simulated operator's material picks go: a collector's operator inbox
    /// (<c>&lt;DataDir&gt;/operator-actions.jsonl</c>); null = no picks (every charge is the furnace's default material).
    /// </summary>
    public string? OperatorInbox { get; init; }

    /// <summary>Scheduled faults, in simulated time.</summary>
    public IReadOnlyList<PlantFault> Faults { get; init; } = [];

    /// <summary>Seed of the scale frame corruption.</summary>
    public int CorruptionSeed { get; init; } = 7;

    /// <summary>Wall time between two frames of one scale (the indicator's continuous output).</summary>
    public TimeSpan FrameInterval => TimeSpan.FromMilliseconds(Math.Clamp(250 / Speed, 4, 100));

    /// <summary>Throws when the options cannot be played.</summary>
    public void Validate()
    {
        Scenario.Validate();
        if (!double.IsFinite(Speed) || Speed < 1 || Speed > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(Speed), Speed, "--speed must be 1 … 1000");
        }

        if (Lead < TimeSpan.Zero || Lead > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentOutOfRangeException(nameof(Lead), Lead, "--lead must be 0 … 600 s");
        }

        if (OpcUaPort is < 0 or > 65535 || ModbusPort is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(OpcUaPort), "ports must be 0 … 65535");
        }
    }
}
