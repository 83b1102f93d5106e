using EdgeCollector.Modbus.Tests.Infrastructure;
using EdgeCollector.Serial;
using EdgeCollector.Sim.Modbus;

namespace EdgeCollector.Modbus.Tests.Integration;

/// <summary>Our RTU master and slave on a socat pty pair, with noise on the line.</summary>
[Trait("Category", "Integration")]
public sealed class RtuLineTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static ModbusConnectionOptions Options => new() { Timeout = TimeSpan.FromSeconds(2), Retries = 0 };

    [Fact]
    public async Task Garbage_before_replies_is_rejected_and_counted_by_the_master()
    {
        using var pty = await SocatPtyPair.StartAsync();
        var units = new ModbusUnitMap();
        var meter = new SchneiderPm5xxxMeter(1);
        meter.AttachTo(units);
        var noisy = new NoisyStream(LinuxSerialPort.Open(new SerialPortSettings(pty.PathB, 19200, Parity: SerialParity.Even)), seed: 1);
        await using var slave = ModbusRtuSlave.Start(noisy, units);
        var settings = new SerialPortSettings(pty.PathA, 19200, Parity: SerialParity.Even);
        await using var master = ModbusRtuConnection.Serial(settings, Options);

        for (int i = 1; i <= 50; i++)
        {
            meter.SetEnergyKWh(i * 1000.5);
            var wh = await master.ReadValuesAsync(1, ModbusArea.Holding, SchneiderPm5xxxMeter.EnergyInt64WhAddress, ModbusDataType.Int64).WaitAsync(Bound);
            Assert.Equal(Math.Round(i * 1000.5 * 1000), Assert.Single(wh).Value);
        }

        Assert.Equal(noisy.NoiseBytes, master.Counters.GarbageBytes);
        Assert.True(master.Counters.GarbageBytes >= 50);
        Assert.Equal(0, master.Counters.Timeouts);
    }

    [Fact]
    public async Task Garbage_before_requests_is_rejected_and_counted_by_the_slave()
    {
        using var pty = await SocatPtyPair.StartAsync();
        var units = new ModbusUnitMap();
        var gas = new GasVolumeCorrector(9);
        gas.AttachTo(units);
        await using var slave = ModbusRtuSlave.Start(new SerialPortSettings(pty.PathB, 9600), units);
        NoisyStream? noisy = null;
        await using var master = new ModbusRtuConnection(
            "noisy",
            _ => ValueTask.FromResult<Stream>(noisy = new NoisyStream(LinuxSerialPort.Open(new SerialPortSettings(pty.PathA, 9600)), seed: 2)),
            ModbusRtuConnection.InterFrameSilenceFor(9600),
            Options);

        for (int i = 1; i <= 30; i++)
        {
            gas.SetStandardTotalNm3(i * 12_345.6789m);
            var total = await master.ReadValuesAsync(9, ModbusArea.Holding, GasVolumeCorrector.StandardTotalBcdAddress, ModbusDataType.Bcd48).WaitAsync(Bound);
            Assert.Equal((double)(i * 123_456_789L), Assert.Single(total).Value);
        }

        Assert.Equal(noisy!.NoiseBytes, slave.Counters.GarbageBytes);
        Assert.Equal(30, slave.Counters.Requests);
    }

    [Fact]
    public async Task Requests_for_other_units_are_not_answered_and_the_master_times_out()
    {
        using var pty = await SocatPtyPair.StartAsync();
        var units = new ModbusUnitMap();
        new AcrelDtsd1352Meter(2).AttachTo(units);
        await using var slave = ModbusRtuSlave.Start(new SerialPortSettings(pty.PathB, 38400), units);
        await using var master = ModbusRtuConnection.Serial(new SerialPortSettings(pty.PathA, 38400), Options with { Timeout = TimeSpan.FromSeconds(1) });

        await Assert.ThrowsAsync<TimeoutException>(() => master.ReadRegistersAsync(3, ModbusArea.Holding, 0, 2).WaitAsync(Bound));
        Assert.Equal(2, (await master.ReadRegistersAsync(2, ModbusArea.Holding, 0, 2).WaitAsync(Bound)).Length);
    }

    [Fact]
    public void Inter_frame_silence_follows_the_serial_line_spec()
    {
        // §2.5.1.1: 3.5 characters of 11 bits; fixed 1.75 ms above 19200 baud.
        Assert.Equal(TimeSpan.FromSeconds(3.5 * 11 / 9600), ModbusRtuConnection.InterFrameSilenceFor(9600));
        Assert.Equal(TimeSpan.FromSeconds(3.5 * 11 / 19200), ModbusRtuConnection.InterFrameSilenceFor(19200));
        Assert.Equal(TimeSpan.FromMicroseconds(1750), ModbusRtuConnection.InterFrameSilenceFor(115200));
    }
}
