using System.Globalization;

namespace EdgeCollector.Simulators.Plant;

/// <summary>
/// What a <see cref="PlantScenario"/> simulates: which furnaces, over which period, with which
/// scale settings. Every default matches the shipped sample (config/sample-shift.jsonl).
/// </summary>
public sealed record ScenarioOptions
{
    /// <summary>The default start: 08:00 Asia/Shanghai on 2026-11-20, the start of a day shift.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Seed of every random draw; the same seed gives the same bytes.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Number of furnaces, named F1, F2, …</summary>
    public int Furnaces { get; init; } = 2;

    /// <summary>Start of the simulated period (UTC); meters are first read at this instant.</summary>
    public DateTimeOffset Start { get; init; } = DefaultStart;

    /// <summary>Length of the simulated period; meters are last read at <see cref="Start"/> + this.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromHours(8);

    /// <summary>Site time zone (IANA id): heat ids carry the local hour, shifts follow local time.</summary>
    public string TimeZone { get; init; } = "Asia/Shanghai";

    /// <summary>Local shift start times; the ground truth has one shift record per shift that lies inside the period.</summary>
    public IReadOnlyList<TimeOnly> ShiftStarts { get; init; } = [new(8, 0), new(16, 0), new(0, 0)];

    /// <summary>Seconds between meter reads (every totaliser is read at the same instants).</summary>
    public int MeterReadSeconds { get; init; } = 10;

    /// <summary>Scale StableSeconds: a ticket is made once the weight has held this long.</summary>
    public double StableSeconds { get; init; } = 2;

    /// <summary>Scale StableBandKg (max − min of a stable run).</summary>
    public double StableBandKg { get; init; } = 2;

    /// <summary>Scale ZeroBandKg: a load starts above it and ends back within it.</summary>
    public double ZeroBandKg { get; init; } = 5;

    /// <summary>
    /// Least number of settled readings (seconds) of a load; 0 = the drawn 4–9 (5–9 for taps). The live
    /// plant sets 8: a time-compressed collector stamps readings on arrival, and a longer sit keeps the
    /// stable window wide in wall time.
    /// </summary>
    public int MinSettleReadings { get; init; }

    /// <summary>End of the simulated period (UTC).</summary>
    public DateTimeOffset End => Start + Duration;

    /// <summary>The furnace ids, F1 … Fn.</summary>
    public IReadOnlyList<string> FurnaceIds => Enumerable.Range(1, Furnaces).Select(i => "F" + i.ToString(CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Name of a furnace's scale for a role: <c>F1-charge</c>, <c>F1-tap</c>, <c>F1-dross</c>.</summary>
    public static string ScaleName(string furnace, ScaleKind kind) => kind switch
    {
        ScaleKind.Charge => furnace + "-charge",
        ScaleKind.Tap => furnace + "-tap",
        _ => furnace + "-dross",
    };

    /// <summary>Throws when the options cannot describe a scenario.</summary>
    public void Validate()
    {
        if (Furnaces is < 1 or > 99)
        {
            throw new ArgumentOutOfRangeException(nameof(Furnaces), Furnaces, "furnaces must be 1 … 99");
        }

        if (Duration <= TimeSpan.Zero || Duration > TimeSpan.FromDays(31))
        {
            throw new ArgumentOutOfRangeException(nameof(Duration), Duration, "the period must be longer than zero and at most 31 days");
        }

        if (MinSettleReadings is < 0 or > 60)
        {
            throw new ArgumentOutOfRangeException(nameof(MinSettleReadings), MinSettleReadings, "MinSettleReadings must be 0 … 60");
        }

        if (MeterReadSeconds is < 1 or > 3600)
        {
            throw new ArgumentOutOfRangeException(nameof(MeterReadSeconds), MeterReadSeconds, "meter reads must be 1 … 3600 s apart");
        }

        if (Start.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Start), Start, "the start must be a whole second");
        }

        if (Duration.Ticks % (MeterReadSeconds * TimeSpan.TicksPerSecond) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Duration), Duration, "the period must be a whole number of meter read intervals");
        }

        _ = TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
    }
}

/// <summary>What a scale weighs.</summary>
public enum ScaleKind
{
    /// <summary>Charges into the furnace (scrap, ingot, alloying additions).</summary>
    Charge,
    /// <summary>Metal tapped into a ladle.</summary>
    Tap,
    /// <summary>Dross skimmed off the bath.</summary>
    Dross,
}
