using System.Globalization;
using System.Text;

namespace EdgeCollector.Influx;

/// <summary>Timestamp precision of written points (the <c>precision</c> query parameter).</summary>
public enum InfluxPrecision
{
    Nanoseconds,
    Microseconds,
    Milliseconds,
    Seconds,
}

/// <summary>A point the line protocol cannot express (empty name, newline, NaN …).</summary>
public sealed class InfluxLineProtocolException : ArgumentException
{
    public InfluxLineProtocolException(string message) : base(message) { }
    public InfluxLineProtocolException() { }
    public InfluxLineProtocolException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// One point: measurement, tags, typed fields, optional timestamp. Build with the fluent methods, then
/// <see cref="ToLineProtocol"/> (or hand it to <see cref="InfluxWriter"/>).
/// </summary>
public sealed class InfluxPoint
{
    private readonly SortedDictionary<string, string> _tags = new(StringComparer.Ordinal);
    private readonly List<KeyValuePair<string, object>> _fields = [];

    public InfluxPoint(string measurement) => Measurement = measurement;

    public string Measurement { get; }
    public DateTimeOffset? Time { get; private set; }
    public IReadOnlyDictionary<string, string> Tags => _tags;
    public IReadOnlyList<KeyValuePair<string, object>> Fields => _fields;

    /// <summary>Adds a tag. An empty value omits the tag (the line protocol has no empty tag values).</summary>
    public InfluxPoint Tag(string key, string? value)
    {
        if (!string.IsNullOrEmpty(value)) _tags[key] = value;
        return this;
    }

    /// <summary>Float field, written in shortest round-trip form with the invariant culture.</summary>
    public InfluxPoint Field(string key, double value) => AddField(key, value);

    /// <summary>Integer field (<c>i</c> suffix).</summary>
    public InfluxPoint Field(string key, long value) => AddField(key, value);

    public InfluxPoint Field(string key, bool value) => AddField(key, value);

    /// <summary>String field (double-quoted; <c>"</c> and <c>\</c> escaped).</summary>
    public InfluxPoint Field(string key, string value) => AddField(key, value);

    public InfluxPoint Timestamp(DateTimeOffset time)
    {
        Time = time;
        return this;
    }

    private InfluxPoint AddField(string key, object value)
    {
        _fields.Add(new(key, value));
        return this;
    }

    /// <summary>Formats the point as one line (no trailing newline).</summary>
    /// <exception cref="InfluxLineProtocolException">The point cannot be written.</exception>
    public string ToLineProtocol(InfluxPrecision precision)
    {
        var sb = new StringBuilder(64);
        LineProtocol.Append(sb, this, precision);
        return sb.ToString();
    }
}

/// <summary>
/// InfluxDB line protocol: <c>measurement[,tag=value…] field=value[,…] [timestamp]</c>.
/// Escaping per the reference: measurement — comma and space; tag keys, tag values and field keys — comma,
/// equals sign and space; string field values — double quote and backslash. Newlines are not supported in
/// any element and are rejected, as are NaN and infinities, empty names, and keys or tag values that end in a
/// backslash (it would escape the delimiter after it, and 1.x and 2.x unescape it differently).
/// </summary>
public static class LineProtocol
{
    private static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    public static void Append(StringBuilder sb, InfluxPoint point, InfluxPrecision precision)
    {
        ArgumentNullException.ThrowIfNull(sb);
        ArgumentNullException.ThrowIfNull(point);
        if (point.Fields.Count == 0) throw new InfluxLineProtocolException($"Point '{point.Measurement}' has no field; a point needs at least one.");
        int start = sb.Length;
        try
        {
            Escape(sb, point.Measurement, "measurement", equals: false);
            foreach (var (key, value) in point.Tags)
            {
                sb.Append(',');
                Escape(sb, key, "tag key", equals: true);
                sb.Append('=');
                Escape(sb, value, "tag value", equals: true);
            }
            char separator = ' ';
            foreach (var (key, value) in point.Fields)
            {
                sb.Append(separator);
                separator = ',';
                Escape(sb, key, "field key", equals: true);
                sb.Append('=');
                AppendFieldValue(sb, key, value);
            }
            if (point.Time is { } time)
            {
                sb.Append(' ');
                sb.Append(ToUnix(time, precision).ToString(CultureInfo.InvariantCulture));
            }
        }
        catch
        {
            sb.Length = start;
            throw;
        }
    }

    /// <summary>Time since the Unix epoch in the given precision (truncated toward negative infinity).</summary>
    public static long ToUnix(DateTimeOffset time, InfluxPrecision precision)
    {
        long ticks = (time - Epoch).Ticks; // 100 ns
        return precision switch
        {
            InfluxPrecision.Nanoseconds => checked(ticks * 100),
            InfluxPrecision.Microseconds => Math.DivRem(ticks, 10, out long r1) - (r1 < 0 ? 1 : 0),
            InfluxPrecision.Milliseconds => Math.DivRem(ticks, TimeSpan.TicksPerMillisecond, out long r2) - (r2 < 0 ? 1 : 0),
            InfluxPrecision.Seconds => Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long r3) - (r3 < 0 ? 1 : 0),
            _ => throw new ArgumentOutOfRangeException(nameof(precision)),
        };
    }

    private static void Escape(StringBuilder sb, string value, string what, bool equals)
    {
        if (string.IsNullOrEmpty(value)) throw new InfluxLineProtocolException($"Empty {what}.");
        if (value.AsSpan().IndexOfAny('\n', '\r') >= 0) throw new InfluxLineProtocolException($"The line protocol does not support newlines ({what} '{value.ReplaceLineEndings("\\n")}').");
        if (value[^1] == '\\') throw new InfluxLineProtocolException($"{what} '{value}' ends with a backslash, which would escape the delimiter after it.");
        foreach (char c in value)
        {
            if (c == ',' || c == ' ' || (equals && c == '=')) sb.Append('\\');
            sb.Append(c);
        }
    }

    private static void AppendFieldValue(StringBuilder sb, string key, object value)
    {
        switch (value)
        {
            case double d:
                if (!double.IsFinite(d)) throw new InfluxLineProtocolException($"Field '{key}' is {d}; the line protocol has no NaN or infinity.");
                // Shortest round-trip form; an integral value without '.' or 'e' still parses as a float (no 'i').
                sb.Append(d.ToString("R", CultureInfo.InvariantCulture));
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture)).Append('i');
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case string s:
                if (s.AsSpan().IndexOfAny('\n', '\r') >= 0) throw new InfluxLineProtocolException($"The line protocol does not support newlines (string field '{key}').");
                sb.Append('"');
                foreach (char c in s)
                {
                    if (c == '"' || c == '\\') sb.Append('\\');
                    sb.Append(c);
                }
                sb.Append('"');
                break;
            default:
                throw new InfluxLineProtocolException($"Field '{key}' has unsupported type {value.GetType().Name}.");
        }
    }
}
