using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EdgeCollector.Core.Engine;

/// <summary>
/// Engine time is UTC <see cref="DateTime.Ticks"/> (100 ns) held in a <c>long</c>, so window
/// boundaries compare exactly and no time zone leaks into arithmetic.
/// </summary>
public static class EngineTime
{
    public const long TicksPerSecond = TimeSpan.TicksPerSecond;
    public const long TicksPerMinute = TimeSpan.TicksPerMinute;
    public const long TicksPerHour = TimeSpan.TicksPerHour;

    public static long FloorMinute(long ticks) => ticks - Mod(ticks, TicksPerMinute);

    public static long CeilMinute(long ticks)
    {
        long floor = FloorMinute(ticks);
        return floor == ticks ? ticks : floor + TicksPerMinute;
    }

    private static long Mod(long a, long m) => ((a % m) + m) % m;

    public static long FromDateTimeOffset(DateTimeOffset value) => value.UtcTicks;

    public static DateTime ToUtc(long ticks) => new(ticks, DateTimeKind.Utc);

    /// <summary>
    /// product.md "Ids": UTC ISO-8601 with Z, exactly three fraction digits (milliseconds,
    /// finer parts truncated) only when not a whole second.
    /// </summary>
    public static string Format(long ticks)
    {
        var utc = ToUtc(ticks);
        long subSecond = ticks % TicksPerSecond;
        if (subSecond < TimeSpan.TicksPerMillisecond)
        {
            return utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        return utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>Parses an ISO-8601 timestamp that carries a zone (Z or an offset).</summary>
    public static bool TryParse(string text, out long ticks)
    {
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            && (text.EndsWith('Z') || text.Contains('+', StringComparison.Ordinal) || text.LastIndexOf('-') > 9))
        {
            ticks = value.UtcTicks;
            return true;
        }

        ticks = 0;
        return false;
    }
}

/// <summary>Deterministic message ids (product.md "Ids").</summary>
public static class MessageIds
{
    public static string Sha256Hex(string text)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return Convert.ToHexStringLower(hash);
    }

    public static string Kpi(string site, string entity, string kind, long start) =>
        Sha256Hex($"{site}|{entity}|{kind}|{EngineTime.Format(start)}");

    public static string Ticket(string site, string scale, long stableAt) =>
        Sha256Hex($"{site}|{scale}|ticket|{EngineTime.Format(stableAt)}");

    public static string Void(string site, string scale, long voidedStableAt) =>
        Sha256Hex($"{site}|{scale}|void|{EngineTime.Format(voidedStableAt)}");
}
