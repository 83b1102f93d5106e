using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Core.Engine;

// Everything the engine must remember across a restart, as plain serializable data.
// Derived lookups (finality groups' thresholds) are rebuilt on restore.

public sealed class EngineState
{
    public string Layout { get; set; } = "";
    public bool Started { get; set; }
    public long RecordTime { get; set; } = long.MinValue;
    public long FirstRecord { get; set; }
    public long Seq { get; set; }
    public CounterState[] Counters { get; set; } = [];
    public Dictionary<string, StepSeries> Steps { get; set; } = new(StringComparer.Ordinal);
    public FurnaceState[] Furnaces { get; set; } = [];
    public ScaleTicketState[] Scales { get; set; } = [];
    public long MinuteBase { get; set; }
    public List<MinuteSlot?> Minutes { get; set; } = [];
    /// <summary>[entity][kind: 0 minute, 1 shift, 2 day].</summary>
    public SeriesState[][] Series { get; set; } = [];
    /// <summary>Published windows kept for corrections; checkpointed row by row (<see cref="Checkpoint"/>), not in the state blob.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Dictionary<string, PublishedWindow> Published { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Tickets kept for voids; checkpointed row by row, not in the state blob.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Dictionary<string, TicketState> Tickets { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Counter flag intervals per entity.</summary>
    public List<FlagInterval>[] Flags { get; set; } = [];
}

/// <summary>
/// What changed since the last checkpoint: the small core state as one blob, and the long-lived
/// collections (published windows, tickets) as upserted and deleted rows, so a checkpoint costs
/// what changed, not what is retained.
/// </summary>
public sealed record Checkpoint(
    byte[] Core,
    List<KeyValuePair<string, byte[]>> PublishedUpserts,
    List<string> PublishedDeletes,
    List<KeyValuePair<string, byte[]>> TicketUpserts,
    List<string> TicketDeletes);

/// <summary>The whole state in one document (tests and small tools).</summary>
public sealed class EngineSnapshot
{
    public EngineState State { get; set; } = new();
    public List<PublishedWindow> Published { get; set; } = [];
    public List<TicketState> Tickets { get; set; } = [];
}

public sealed class MinuteSlot
{
    /// <summary>Direct figures per furnace: own meters and tickets.</summary>
    public Figures[] Furnace { get; set; } = [];
    /// <summary>Site-meter energy in this minute, before allocation.</summary>
    public Figures SiteMeters { get; set; } = new();
}

public sealed class SeriesState
{
    /// <summary>Start of the first window not yet final.</summary>
    public long NextFinal { get; set; }
    /// <summary>Start of the first window not yet published at all (≥ NextFinal).</summary>
    public long NextPub { get; set; }
}

public sealed class FurnaceState
{
    public double? State { get; set; }
    public double? HeatNumber { get; set; }
    public long RunningCount { get; set; }
    public Material? Pick { get; set; }
    public bool TapArmed { get; set; }
    public HeatState? Open { get; set; }
    /// <summary>Closed heats not yet final.</summary>
    public List<HeatState> Closed { get; set; } = [];
    /// <summary>PLC mode: charge tickets made while no heat was open; they join the next heat.</summary>
    public List<string> PendingCharges { get; set; } = [];
    /// <summary>Heat ids issued recently, for the ".2" suffix rule.</summary>
    public Dictionary<string, long> RecentIds { get; set; } = new(StringComparer.Ordinal);
}

public sealed class HeatState
{
    public string Id { get; set; } = "";
    public long Open { get; set; }
    public long? Close { get; set; }
    public Figures Direct { get; set; } = new();
    public bool HoldPublished { get; set; }
}

public sealed class TicketState
{
    public string Id { get; set; } = "";
    public string Scale { get; set; } = "";
    public int Furnace { get; set; }
    public ScaleRole Role { get; set; }
    /// <summary>Material index (see <see cref="Figures"/>) for charges; −1 for taps and dross.</summary>
    public int Material { get; set; } = -1;
    public double GrossKg { get; set; }
    public double NetKg { get; set; }
    public double YieldNetKg { get; set; }
    public long StableAt { get; set; }
    public string? HeatId { get; set; }
    public bool Voided { get; set; }
}

public sealed class PublishedWindow
{
    public string Id { get; set; } = "";
    public WindowKind Kind { get; set; }
    public int Entity { get; set; }
    public long Start { get; set; }
    public long End { get; set; }
    public string? HeatId { get; set; }
    public int Rev { get; set; }
    public bool Complete { get; set; }
    public bool Final { get; set; }
    public List<string> Flags { get; set; } = [];
    public Figures Figures { get; set; } = new();
    public double HeelDeltaKg { get; set; }
}

public readonly record struct FlagInterval(string Flag, long Start, long End);

public static class QualityFlags
{
    public const string HeelUncorrected = "heel-uncorrected";
    public const string Corrected = "corrected";
    public const string CounterReset = "counter-reset";
    public const string CounterSpikeRejected = "counter-spike-rejected";
    public const string CounterRebased = "counter-rebased";
    /// <summary>A scale load went above the zero band and back without holding stable: a weighing may be missing (contract addition).</summary>
    public const string ScaleLoadUnticketed = "scale-load-unticketed";
}
