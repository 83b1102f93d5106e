using System.Globalization;
using System.Text.RegularExpressions;
using EdgeCollector.Modbus.Tests.Infrastructure;
using EdgeCollector.Serial;
using EdgeCollector.Sim.Modbus;

namespace EdgeCollector.Modbus.Tests.Integration;

/// <summary>mbpoll (an independent libmodbus-era master) reads our slave over TCP and RTU.</summary>
[Trait("Category", "Integration")]
public sealed partial class MbpollTests
{
    // mbpoll's own timeout is raised to 5 s (-o 5): its 1 s default is too short on a loaded CI host.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Mbpoll_reads_the_schneider_map_over_tcp()
    {
        var units = new ModbusUnitMap();
        var meter = new SchneiderPm5xxxMeter(1);
        meter.AttachTo(units);
        meter.SetEnergyKWh(12_345.5);
        var sdm = new EastronSdm630Meter(2);
        sdm.AttachTo(units);
        sdm.SetEnergyKWh(4321.5);
        await using var slave = new ModbusTcpSlave(units).Start();
        string port = slave.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture);

        // Manual register 3204 (1-based, mbpoll's default numbering) = wire 3203: int64 Wh as four registers.
        var words = await ReadAsync("-m", "tcp", "-a", "1", "-r", "3204", "-c", "4", "-t", "4", "-1", "-o", "5", "-p", port, "127.0.0.1");
        Assert.Equal(12_345_500L, Combine(words));
        // The low 32 bits of the same value as mbpoll's 32-bit integer, high word first (-B).
        Assert.Equal(["12345500"], await ReadAsync("-m", "tcp", "-a", "1", "-r", "3206", "-t", "4:int", "-B", "-1", "-o", "5", "-p", port, "127.0.0.1"));
        // Manual 2700 = wire 2699: float32 kWh.
        Assert.Equal(["12345.5"], await ReadAsync("-m", "tcp", "-a", "1", "-r", "2700", "-t", "4:float", "-B", "-1", "-o", "5", "-p", port, "127.0.0.1"));
        // SDM630 total kWh: input register 30343 = wire 0x0156, FC04.
        Assert.Equal(["4321.5"], await ReadAsync("-m", "tcp", "-a", "2", "-r", "343", "-t", "3:float", "-B", "-1", "-o", "5", "-p", port, "127.0.0.1"));
    }

    [Fact]
    public async Task Mbpoll_reads_our_rtu_slave_on_a_pty()
    {
        using var pty = await SocatPtyPair.StartAsync();
        var units = new ModbusUnitMap();
        var meter = new SchneiderPm5xxxMeter(1);
        meter.AttachTo(units);
        meter.SetEnergyKWh(98_765.25);
        var acrel = new AcrelDtsd1352Meter(5);
        acrel.AttachTo(units);
        acrel.SetEnergyKWh(1234.56);
        // mbpoll's RTU defaults: 19200 baud, 8 data bits, even parity, 1 stop bit.
        await using var slave = ModbusRtuSlave.Start(new SerialPortSettings(pty.PathA, 19200, 8, SerialParity.Even), units);

        var words = await ReadAsync("-m", "rtu", "-b", "19200", "-P", "even", "-a", "1", "-r", "3204", "-c", "4", "-t", "4", "-1", "-o", "5", pty.PathB);
        Assert.Equal(98_765_250L, Combine(words));
        Assert.Equal(["98765.2"], await ReadAsync("-m", "rtu", "-b", "19200", "-P", "even", "-a", "1", "-r", "2700", "-t", "4:float", "-B", "-1", "-o", "5", pty.PathB));
        // Acrel: uint32 high word first at wire 0 in 0.01 kWh.
        Assert.Equal(["123456"], await ReadAsync("-m", "rtu", "-b", "19200", "-P", "even", "-a", "5", "-r", "1", "-t", "4:int", "-B", "-1", "-o", "5", pty.PathB));
        Assert.True(slave.Counters.Requests >= 3);
    }

    [Fact]
    public async Task Mbpoll_sees_our_exception_response()
    {
        var units = new ModbusUnitMap();
        new SchneiderPm5xxxMeter(1).AttachTo(units);
        await using var slave = new ModbusTcpSlave(units).Start();
        var (_, output) = await PeerProcess.RunAsync(Bound, "mbpoll", "-m", "tcp", "-a", "1", "-r", "100", "-t", "4", "-1", "-o", "5", "-p", slave.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture), "127.0.0.1");
        Assert.True(output.Contains("Illegal data address", StringComparison.OrdinalIgnoreCase), output);
    }

    private static async Task<string[]> ReadAsync(params string[] args)
    {
        var (exitCode, output) = await PeerProcess.RunAsync(Bound, "mbpoll", args);
        var values = ValueLine().Matches(output).Select(m => m.Groups[1].Value).ToArray();
        Assert.True(exitCode == 0 && values.Length > 0, $"mbpoll {string.Join(' ', args)} exited {exitCode}:\n{output}");
        return values;
    }

    private static long Combine(string[] words)
    {
        Assert.Equal(4, words.Length);
        long value = 0;
        foreach (var word in words)
        {
            value = (value << 16) | (ushort)int.Parse(word, CultureInfo.InvariantCulture); // mbpoll may print a register signed or unsigned
        }

        return value;
    }

    // mbpoll prints one "[reference]: <tab>value" line per value.
    [GeneratedRegex(@"^\[\d+\]:\s+(\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex ValueLine();
}
