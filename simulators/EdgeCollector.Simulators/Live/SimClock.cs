using System.Globalization;

namespace EdgeCollector.Simulators.Live;

/// <summary>
/// A time-compressed wall clock shared by the simulated plant and (developer/demo only) the
/// collector: <c>sim = origin + (wall − anchor) × speed</c>, held at <see cref="Origin"/> before the
/// anchor. Only <see cref="GetUtcNow"/> is scaled: timestamps and everything computed from them
/// (tickets' stable time, heat and shift windows, the engine's live clock) run in simulated time,
/// while <see cref="TimeProvider.GetTimestamp"/> and timers stay on the wall clock — so I/O
/// timeouts, silence detection, reconnect back-off and poll/publish cadences keep their configured
/// wall-time meaning (the plant writes cadences already divided by the speed).
/// </summary>
/// <remarks>
/// Two processes agree on the simulated time because both derive it from the system clock with
/// the same anchor; the spec travels as one string (<see cref="Spec"/>,
/// <c>origin=…;anchor=…;speed=N</c>).
/// </remarks>
public sealed class SimClock : TimeProvider
{
    /// <summary>Creates the clock.</summary>
    /// <param name="origin">Simulated time at the anchor.</param>
    /// <param name="anchor">Wall-clock (UTC) instant at which the simulated time is <paramref name="origin"/>.</param>
    /// <param name="speed">Simulated seconds per wall second (1 … 10,000).</param>
    public SimClock(DateTimeOffset origin, DateTimeOffset anchor, double speed)
    {
        if (!double.IsFinite(speed) || speed < 1 || speed > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(speed), speed, "speed must be 1 … 10000");
        }

        Origin = origin.ToUniversalTime();
        Anchor = anchor.ToUniversalTime();
        Speed = speed;
    }

    /// <summary>Simulated time at <see cref="Anchor"/>.</summary>
    public DateTimeOffset Origin { get; }

    /// <summary>Wall-clock instant at which simulated time starts to run.</summary>
    public DateTimeOffset Anchor { get; }

    /// <summary>Simulated seconds per wall second.</summary>
    public double Speed { get; }

    /// <summary>The spec string that <see cref="Parse"/> reads back.</summary>
    public string Spec => string.Create(CultureInfo.InvariantCulture,
        $"origin={Origin.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffffffZ};anchor={Anchor.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffffffZ};speed={Speed:R}");

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => ToSim(System.GetUtcNow());

    /// <summary>The simulated time at wall instant <paramref name="wall"/>.</summary>
    public DateTimeOffset ToSim(DateTimeOffset wall)
    {
        long wallTicks = (wall - Anchor).Ticks;
        return wallTicks <= 0 ? Origin : Origin + TimeSpan.FromTicks((long)(wallTicks * Speed));
    }

    /// <summary>The wall-clock instant at which simulated time reaches <paramref name="sim"/>.</summary>
    public DateTimeOffset ToWall(DateTimeOffset sim) => Anchor + TimeSpan.FromTicks((long)((sim - Origin).Ticks / Speed));

    /// <summary>A simulated duration in wall time.</summary>
    public TimeSpan WallOf(TimeSpan simulated) => TimeSpan.FromTicks((long)(simulated.Ticks / Speed));

    /// <summary>Reads <c>origin=ISO;anchor=ISO;speed=N</c> (any order); throws <see cref="FormatException"/> naming the problem.</summary>
    public static SimClock Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        DateTimeOffset? origin = null, anchor = null;
        double? speed = null;
        foreach (string part in spec.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string key = eq < 0 ? part : part[..eq];
            string value = eq < 0 ? "" : part[(eq + 1)..];
            switch (key)
            {
                case "origin":
                    origin = Instant(value, key);
                    break;
                case "anchor":
                    anchor = Instant(value, key);
                    break;
                case "speed":
                    speed = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s is >= 1 and <= 10_000
                        ? s : throw new FormatException($"sim clock: speed '{value}' must be a number 1 … 10000");
                    break;
                default:
                    throw new FormatException($"sim clock: unknown key '{key}' (expected origin, anchor, speed)");
            }
        }

        return new SimClock(
            origin ?? throw new FormatException("sim clock: origin=… is missing"),
            anchor ?? throw new FormatException("sim clock: anchor=… is missing"),
            speed ?? throw new FormatException("sim clock: speed=… is missing"));
    }

    private static DateTimeOffset Instant(string text, string key)
    {
        if (!text.EndsWith('Z') || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
        {
            throw new FormatException($"sim clock: {key} '{text}' must be a UTC instant ending in Z");
        }

        return value;
    }
}
