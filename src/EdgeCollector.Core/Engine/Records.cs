using System.Buffers;
using System.Text;
using System.Text.Json;
using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Core.Engine;

/// <summary>One input record (contracts.md §3): what the collector read or an operator did.</summary>
public abstract record InputRecord(long Ticks);

public sealed record TagRecord(long Ticks, string Tag, double Value, SampleQuality Quality = SampleQuality.Good) : InputRecord(Ticks);

public sealed record ScaleRecord(long Ticks, string Scale, double GrossKg, bool? Motion) : InputRecord(Ticks);

public sealed record MaterialPickRecord(long Ticks, string Furnace, Material? Material) : InputRecord(Ticks);

public sealed record VoidRecord(long Ticks, string Ticket, string Reason) : InputRecord(Ticks);

/// <summary>A line that is not a valid record.</summary>
public sealed class RecordFormatException(string message) : FormatException(message);

/// <summary>Reads and writes the JSON-lines recording format of contracts.md §3.</summary>
public static class RecordCodec
{
    public static InputRecord Parse(string line)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException ex)
        {
            throw new RecordFormatException($"not JSON: {ex.Message}");
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new RecordFormatException("a record must be a JSON object");
            }

            string tsText = RequiredString(root, "ts");
            if (!EngineTime.TryParse(tsText, out long ticks))
            {
                throw new RecordFormatException($"'ts' is not an ISO-8601 timestamp with a zone: '{tsText}'");
            }

            if (root.TryGetProperty("tag", out _))
            {
                string tag = RequiredString(root, "tag");
                double value = root.TryGetProperty("value", out var v) ? v.ValueKind switch
                {
                    JsonValueKind.Number => v.GetDouble(),
                    JsonValueKind.True => 1,
                    JsonValueKind.False => 0,
                    _ => throw new RecordFormatException("'value' must be a number or a boolean"),
                } : throw new RecordFormatException("a tag record needs 'value'");
                var quality = SampleQuality.Good;
                if (root.TryGetProperty("quality", out var q) && q.ValueKind != JsonValueKind.Null)
                {
                    quality = q.GetString() switch
                    {
                        "Good" => SampleQuality.Good,
                        "Uncertain" => SampleQuality.Uncertain,
                        "Bad" => SampleQuality.Bad,
                        var other => throw new RecordFormatException($"'quality' '{other}' is not one of Good, Uncertain, Bad"),
                    };
                }

                return new TagRecord(ticks, tag, value, quality);
            }

            if (root.TryGetProperty("scale", out _))
            {
                string scale = RequiredString(root, "scale");
                if (!root.TryGetProperty("grossKg", out var g) || g.ValueKind != JsonValueKind.Number)
                {
                    throw new RecordFormatException("a scale record needs a numeric 'grossKg'");
                }

                bool? motion = root.TryGetProperty("motion", out var m) ? m.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Null => null,
                    _ => throw new RecordFormatException("'motion' must be true, false or null"),
                } : null;
                return new ScaleRecord(ticks, scale, g.GetDouble(), motion);
            }

            if (root.TryGetProperty("operator", out _))
            {
                string action = RequiredString(root, "operator");
                switch (action)
                {
                    case "material":
                        string furnace = RequiredString(root, "furnace");
                        Material? material = null;
                        if (root.TryGetProperty("material", out var mat) && mat.ValueKind != JsonValueKind.Null)
                        {
                            string name = mat.GetString() ?? "";
                            if (!Enum.TryParse<Material>(name, ignoreCase: false, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(name, out _))
                            {
                                throw new RecordFormatException($"'material' '{name}' is not one of {string.Join(", ", Enum.GetNames<Material>())}");
                            }

                            material = parsed;
                        }

                        return new MaterialPickRecord(ticks, furnace, material);
                    case "void":
                        return new VoidRecord(ticks, RequiredString(root, "ticket"),
                            root.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "");
                    default:
                        throw new RecordFormatException($"'operator' '{action}' is not one of material, void");
                }
            }

            throw new RecordFormatException("a record needs one of 'tag', 'scale' or 'operator'");
        }
    }

    private static string RequiredString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var p) || p.ValueKind != JsonValueKind.String || p.GetString() is not { Length: > 0 } s)
        {
            throw new RecordFormatException($"'{name}' must be a non-empty string");
        }

        return s;
    }

    public static string Write(InputRecord record)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var j = new Utf8JsonWriter(buffer))
        {
            j.WriteStartObject();
            j.WriteString("ts", FormatTs(record.Ticks));
            switch (record)
            {
                case TagRecord t:
                    j.WriteString("tag", t.Tag);
                    j.WriteNumber("value", t.Value);
                    if (t.Quality != SampleQuality.Good)
                    {
                        j.WriteString("quality", t.Quality.ToString());
                    }

                    break;
                case ScaleRecord s:
                    j.WriteString("scale", s.Scale);
                    j.WriteNumber("grossKg", s.GrossKg);
                    if (s.Motion is bool motion)
                    {
                        j.WriteBoolean("motion", motion);
                    }
                    else
                    {
                        j.WriteNull("motion");
                    }

                    break;
                case MaterialPickRecord m:
                    j.WriteString("operator", "material");
                    j.WriteString("furnace", m.Furnace);
                    if (m.Material is { } material)
                    {
                        j.WriteString("material", material.ToString());
                    }
                    else
                    {
                        j.WriteNull("material");
                    }

                    break;
                case VoidRecord v:
                    j.WriteString("operator", "void");
                    j.WriteString("ticket", v.Ticket);
                    j.WriteString("reason", v.Reason);
                    break;
            }

            j.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Recording timestamps keep full milliseconds always, so a recording replays to the tick it was read at.</summary>
    private static string FormatTs(long ticks) =>
        EngineTime.ToUtc(ticks - ticks % TimeSpan.TicksPerMillisecond).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>One replay output line: <c>{"topic": "…", "payload": {…}}</c> (contracts.md §3).</summary>
    public static byte[] OutputLine(OutgoingMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(message.Payload.Length + 64);
        using (var j = new Utf8JsonWriter(buffer))
        {
            j.WriteStartObject();
            j.WriteString("topic", message.Topic);
            j.WritePropertyName("payload");
            j.WriteRawValue(message.Payload, skipInputValidation: true);
            j.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>Extension: apply any record to the engine.</summary>
public static class KpiEngineRecordExtensions
{
    public static void Apply(this KpiEngine engine, InputRecord record)
    {
        switch (record)
        {
            case TagRecord t:
                engine.ApplySample(t.Tag, t.Ticks, t.Value, t.Quality);
                break;
            case ScaleRecord s:
                engine.ApplyScaleReading(s.Scale, s.Ticks, s.GrossKg, s.Motion);
                break;
            case MaterialPickRecord m:
                engine.ApplyMaterialPick(m.Ticks, m.Furnace, m.Material);
                break;
            case VoidRecord v:
                engine.ApplyVoid(v.Ticks, v.Ticket, v.Reason);
                break;
        }
    }
}

/// <summary>A replay input error, with the 1-based line it was found on.</summary>
public sealed class ReplayException(int line, string message) : Exception($"line {line}: {message}")
{
    public int Line { get; } = line;
}

/// <summary>Runs the engine over a recording (contracts.md §3), from empty state.</summary>
public static class Replayer
{
    public static List<OutgoingMessage> Run(PlantModel model, IEnumerable<string> lines, Action<string>? log = null)
    {
        var engine = new KpiEngine(model) { Log = log };
        var output = new List<OutgoingMessage>();
        int number = 0;
        foreach (string line in lines)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                engine.Apply(RecordCodec.Parse(line));
            }
            catch (RecordFormatException ex)
            {
                throw new ReplayException(number, ex.Message);
            }
            catch (OutOfOrderRecordException ex)
            {
                throw new ReplayException(number, ex.Message);
            }

            output.AddRange(engine.TakeMessages());
        }

        engine.FlushAtEnd();
        output.AddRange(engine.TakeMessages());
        return output;
    }
}
