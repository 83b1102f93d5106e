using System.Net.Sockets;
using static EdgeCollector.Modbus.Tests.Codec.Hex;

namespace EdgeCollector.Modbus.Tests.Client;

/// <summary>Our slaves fed with noise: they must neither crash nor hang, and must answer the next valid request.</summary>
public sealed class SlaveRobustnessTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Rtu_slave_resynchronises_after_a_flood_of_noise()
    {
        var units = new ModbusUnitMap();
        units.Add(1).SetRegisters(ModbusArea.Holding, 0, [0x1234]);
        await using var slave = new ModbusTcpSlave(units, framing: ModbusTcpFraming.Rtu).Start();
        using var client = new TcpClient();
        await client.ConnectAsync(slave.LocalEndPoint).WaitAsync(Bound);
        var stream = client.GetStream();

        var random = new Random(7);
        var noise = new byte[200_000];
        random.NextBytes(noise);
        for (int i = 0; i < noise.Length; i += 997)
        {
            await stream.WriteAsync(noise.AsMemory(i, Math.Min(997, noise.Length - i))).AsTask().WaitAsync(Bound);
        }

        // Let the slave work through the noise (and answer anything that happened to be a valid frame).
        await Task.Delay(300);
        var sink = new byte[4096];
        while (client.Available > 0)
        {
            await stream.ReadAsync(sink).AsTask().WaitAsync(Bound);
        }

        await stream.WriteAsync(Bytes("01 03 00 00 00 01 84 0A")).AsTask().WaitAsync(Bound);
        var reply = new byte[7];
        await stream.ReadExactlyAsync(reply).AsTask().WaitAsync(Bound);
        Assert.Equal("01 03 02 12 34 B5 33", Of(reply));
        Assert.True(slave.Counters.GarbageBytes > noise.Length / 2, $"garbage {slave.Counters.GarbageBytes}");
    }

    [Fact]
    public async Task Mbap_slave_drops_a_connection_that_sends_noise_and_keeps_serving_others()
    {
        var units = new ModbusUnitMap();
        units.Add(1).SetRegisters(ModbusArea.Holding, 0, [0x1234]);
        await using var slave = new ModbusTcpSlave(units).Start();
        using (var noisy = new TcpClient())
        {
            await noisy.ConnectAsync(slave.LocalEndPoint).WaitAsync(Bound);
            var noise = new byte[4096];
            new Random(8).NextBytes(noise);
            noise[2] = 0x55; // protocol id ≠ 0
            await noisy.GetStream().WriteAsync(noise).AsTask().WaitAsync(Bound);
            // The slave closes the connection: the read sees end of stream (or a reset).
            try
            {
                int n = await noisy.GetStream().ReadAsync(new byte[16]).AsTask().WaitAsync(Bound);
                Assert.Equal(0, n);
            }
            catch (IOException)
            {
            }
        }

        await using var master = new ModbusTcpConnection("127.0.0.1", slave.LocalEndPoint.Port);
        Assert.Equal(new ushort[] { 0x1234 }, await master.ReadRegistersAsync(1, ModbusArea.Holding, 0, 1).WaitAsync(Bound));
        Assert.True(slave.Counters.BadFrames >= 1);
    }
}
