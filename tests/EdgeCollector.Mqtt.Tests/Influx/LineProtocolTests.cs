using EdgeCollector.Influx;

namespace EdgeCollector.Mqtt.Tests.Influx;

public class LineProtocolTests
{
    private static readonly DateTimeOffset T = new(2026, 11, 21, 8, 0, 1, 250, TimeSpan.Zero);

    [Fact]
    public void Escapes_each_element_as_the_reference_says()
    {
        var p = new InfluxPoint("kpi minute,site")                // measurement: comma and space
            .Tag("furnace id", "F1,=x y")                         // tag key and value: comma, equals, space
            .Tag("a=b", "c")
            .Field("gas nm3", 1985.2)                              // field key: space
            .Field("note", "say \"hi\" C:\\temp")                  // string: quote and backslash
            .Field("count", 42L)
            .Field("ok", true)
            .Timestamp(T);
        Assert.Equal(
            "kpi\\ minute\\,site,a\\=b=c,furnace\\ id=F1\\,\\=x\\ y gas\\ nm3=1985.2,note=\"say \\\"hi\\\" C:\\\\temp\",count=42i,ok=true 1795248001250",
            p.ToLineProtocol(InfluxPrecision.Milliseconds));
    }

    [Fact]
    public void Measurement_keeps_equals_signs_unescaped() =>
        Assert.Equal("a=b v=1i", new InfluxPoint("a=b").Field("v", 1L).ToLineProtocol(InfluxPrecision.Seconds));

    [Theory]
    [InlineData(0.1, "0.1")]
    [InlineData(1.0, "1")]
    [InlineData(-0.0, "-0")]
    [InlineData(1e20, "1E+20")]
    [InlineData(123456789.123456789, "123456789.12345679")]
    [InlineData(double.Epsilon, "5E-324")]
    [InlineData(double.MaxValue, "1.7976931348623157E+308")]
    public void Floats_use_shortest_round_trip_invariant_form(double value, string expected)
    {
        string line = new InfluxPoint("m").Field("v", value).ToLineProtocol(InfluxPrecision.Seconds);
        Assert.Equal("m v=" + expected, line);
        Assert.Equal(value, double.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Float_formatting_ignores_the_current_culture()
    {
        var saved = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal("m v=1.5", new InfluxPoint("m").Field("v", 1.5).ToLineProtocol(InfluxPrecision.Seconds));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = saved;
        }
    }

    [Theory]
    [InlineData(InfluxPrecision.Nanoseconds, "1795248001250000000")]
    [InlineData(InfluxPrecision.Microseconds, "1795248001250000")]
    [InlineData(InfluxPrecision.Milliseconds, "1795248001250")]
    [InlineData(InfluxPrecision.Seconds, "1795248001")]
    public void Timestamps_in_each_precision(InfluxPrecision precision, string expected) =>
        Assert.Equal("m v=1i " + expected, new InfluxPoint("m").Field("v", 1L).Timestamp(T).ToLineProtocol(precision));

    [Fact]
    public void Pre_epoch_times_truncate_toward_negative_infinity() =>
        Assert.Equal(-2, LineProtocol.ToUnix(DateTimeOffset.UnixEpoch.AddMilliseconds(-1500), InfluxPrecision.Seconds));

    [Fact]
    public void Tags_are_sorted_and_empty_tag_values_omitted() =>
        Assert.Equal("m,a=1,b=2 v=1i", new InfluxPoint("m").Tag("b", "2").Tag("z", "").Tag("a", "1").Field("v", 1L).ToLineProtocol(InfluxPrecision.Seconds));

    public static TheoryData<InfluxPoint> Invalid() => new()
    {
        new InfluxPoint("m"),                                              // no field
        new InfluxPoint("").Field("v", 1L),                                // empty measurement
        new InfluxPoint("m\nx").Field("v", 1L),                            // newline in measurement
        new InfluxPoint("m").Tag("t", "a\nb").Field("v", 1L),              // newline in tag value
        new InfluxPoint("m").Field("v", "line1\nline2"),                   // newline in string field
        new InfluxPoint("m").Field("v\r", 1L),                             // CR in field key
        new InfluxPoint("m").Field("v", double.NaN),
        new InfluxPoint("m").Field("v", double.PositiveInfinity),
        new InfluxPoint("m").Tag("t", "ends\\").Field("v", 1L),            // trailing backslash
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Unwritable_points_are_rejected(InfluxPoint point) =>
        Assert.Throws<InfluxLineProtocolException>(() => point.ToLineProtocol(InfluxPrecision.Seconds));
}
