using System.Net;
using System.Net.Sockets;
using static EdgeCollector.Modbus.Tests.Codec.Hex;

namespace EdgeCollector.Modbus.Tests.Client;

/// <summary>Raw-socket checks of what our slave and master put on, and accept from, the wire.</summary>
public sealed class WireBehaviourTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("00 05 00 00 00 06 01 03 00 00 00 7E", "00 05 00 00 00 03 01 83 03")] // 126 registers: illegal data value
    [InlineData("00 06 00 00 00 04 01 2B 0E 01", "00 06 00 00 00 03 01 AB 01")]       // FC43: illegal function
    [InlineData("00 07 00 00 00 06 01 03 00 64 00 01", "00 07 00 00 00 03 01 83 02")] // undefined address
    [InlineData("00 08 00 00 00 06 01 03 00 00 00 02", "00 08 00 00 00 07 01 03 04 00 0B 00 16")]
    public async Task Tcp_slave_answers_with_the_prescribed_bytes(string request, string expected)
    {
        var units = new ModbusUnitMap();
        units.Add(1).SetRegisters(ModbusArea.Holding, 0, [11, 22]);
        await using var slave = new ModbusTcpSlave(units).Start();
        using var client = new TcpClient();
        await client.ConnectAsync(slave.LocalEndPoint).WaitAsync(Bound);
        var stream = client.GetStream();
        await stream.WriteAsync(Bytes(request)).AsTask().WaitAsync(Bound);
        var reply = new byte[Bytes(expected).Length];
        await stream.ReadExactlyAsync(reply).AsTask().WaitAsync(Bound);
        Assert.Equal(expected, Of(reply));
    }

    [Fact]
    public async Task A_malformed_mbap_header_breaks_the_link_and_fails_the_request()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var fake = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            var buffer = new byte[260];
            int n = await socket.ReceiveAsync(buffer);
            // Echo the transaction id with protocol id 1: not Modbus.
            await socket.SendAsync(new byte[] { buffer[0], buffer[1], 0, 1, 0, 5, 1, 3, 2, 0, 1 });
            await Task.Delay(2000);
        });
        await using var master = new ModbusTcpConnection("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, new ModbusConnectionOptions { Timeout = TimeSpan.FromSeconds(3), Retries = 0 });

        var ex = await Assert.ThrowsAnyAsync<IOException>(() => master.ReadRegistersAsync(1, ModbusArea.Holding, 0, 1).WaitAsync(Bound));
        Assert.Contains("Protocol id", ex.Message, StringComparison.Ordinal);
        Assert.Equal(ModbusConnectionState.Broken, master.State);
        Assert.Equal(1, master.Counters.BadFrames);
        Assert.Equal(1, master.Counters.Breaks);
    }

    [Fact]
    public async Task A_lost_reply_is_retried_once_and_succeeds()
    {
        var units = new ModbusUnitMap();
        units.Add(1).SetRegisters(ModbusArea.Holding, 0, [77]);
        units.DropNext(1, 1);
        await using var slave = new ModbusTcpSlave(units).Start();
        await using var master = new ModbusTcpConnection("127.0.0.1", slave.LocalEndPoint.Port, new ModbusConnectionOptions
        {
            Timeout = TimeSpan.FromSeconds(1),
            Retries = 1,
            RetryDelay = TimeSpan.FromMilliseconds(10),
        });

        Assert.Equal(new ushort[] { 77 }, await master.ReadRegistersAsync(1, ModbusArea.Holding, 0, 1).WaitAsync(Bound));
        Assert.Equal(2, master.Counters.Requests);
        Assert.Equal(1, master.Counters.Timeouts);
        Assert.Equal(ModbusConnectionState.Connected, master.State);
    }

    [Fact]
    public async Task Without_retries_a_lost_reply_is_a_timeout()
    {
        var units = new ModbusUnitMap();
        units.Add(1).SetRegisters(ModbusArea.Holding, 0, [77]);
        units.DropNext(1, 1);
        await using var slave = new ModbusTcpSlave(units).Start();
        await using var master = new ModbusTcpConnection("127.0.0.1", slave.LocalEndPoint.Port, new ModbusConnectionOptions { Timeout = TimeSpan.FromMilliseconds(500), Retries = 0 });
        await Assert.ThrowsAsync<TimeoutException>(() => master.ReadRegistersAsync(1, ModbusArea.Holding, 0, 1).WaitAsync(Bound));
    }

    [Fact]
    public async Task Poller_reads_coils_discrete_inputs_and_register_bits()
    {
        var units = new ModbusUnitMap();
        var store = units.Add(4);
        store.SetBits(ModbusArea.Coil, 10, [true, false, true]);
        store.SetBits(ModbusArea.Discrete, 0, [false, true]);
        store.SetRegisters(ModbusArea.Input, 5, [0b0100_0000_0000_0001]);
        await using var slave = new ModbusTcpSlave(units).Start();
        await using var master = new ModbusTcpConnection("127.0.0.1", slave.LocalEndPoint.Port);
        ModbusTag[] tags =
        [
            new("c10", 4, ModbusArea.Coil, 10, ModbusDataType.Bool),
            new("c11", 4, ModbusArea.Coil, 11, ModbusDataType.Bool),
            new("c12", 4, ModbusArea.Coil, 12, ModbusDataType.Bool),
            new("d1", 4, ModbusArea.Discrete, 1, ModbusDataType.Bool),
            new("b0", 4, ModbusArea.Input, 5, ModbusDataType.Bool) { BitIndex = 0 },
            new("b14", 4, ModbusArea.Input, 5, ModbusDataType.Bool) { BitIndex = 14 },
            new("b15", 4, ModbusArea.Input, 5, ModbusDataType.Bool) { BitIndex = 15 },
        ];
        var samples = (await new ModbusPoller(master, tags).PollOnceAsync().WaitAsync(Bound)).ToDictionary(s => s.Tag.Name, s => s.Value);
        Assert.Equal(new double?[] { 1, 0, 1, 1, 1, 1, 0 }, tags.Select(t => samples[t.Name]));
    }

    [Fact]
    public async Task The_factory_builds_each_link_type()
    {
        await using var tcp = ModbusConnectionFactory.Create(ModbusLinkType.Tcp, "127.0.0.1", 502);
        await using var rtuTcp = ModbusConnectionFactory.Create(ModbusLinkType.RtuOverTcp, "127.0.0.1", 4001);
        await using var rtu = ModbusConnectionFactory.Create(ModbusLinkType.Rtu, serial: new EdgeCollector.Serial.SerialPortSettings("/dev/ttyUSB0", 9600));
        Assert.IsType<ModbusTcpConnection>(tcp);
        Assert.Equal("rtu+tcp://127.0.0.1:4001", rtuTcp.Name);
        Assert.Equal(TimeSpan.FromSeconds(3.5 * 10 / 9600), ((ModbusRtuConnection)rtu).InterFrameSilence); // 8N1 = 10 bits
        Assert.Throws<ArgumentNullException>(() => ModbusConnectionFactory.Create(ModbusLinkType.Rtu));
    }
}
