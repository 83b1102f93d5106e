using System.Diagnostics;
using EdgeCollector.Modbus.Tests.Infrastructure;
using EdgeCollector.Serial;

namespace EdgeCollector.Modbus.Tests.Serial;

[Trait("Category", "Integration")]
public sealed class LinuxSerialPortTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(1200, 8, SerialParity.None, SerialStopBits.Two)]
    [InlineData(9600, 8, SerialParity.Even, SerialStopBits.One)]
    [InlineData(19200, 7, SerialParity.Odd, SerialStopBits.One)]
    [InlineData(115200, 8, SerialParity.None, SerialStopBits.One)]
    public async Task Bytes_written_on_one_end_arrive_on_the_other(int baud, int dataBits, SerialParity parity, SerialStopBits stop)
    {
        using var pair = await SocatPtyPair.StartAsync();
        await using var a = LinuxSerialPort.Open(new SerialPortSettings(pair.PathA, baud, dataBits, parity, stop));
        await using var b = LinuxSerialPort.Open(new SerialPortSettings(pair.PathB, baud, dataBits, parity, stop));

        // 7 data bits can only carry 0x00-0x7F.
        byte[] sent = Enumerable.Range(0, 300).Select(i => (byte)(i % (dataBits == 7 ? 128 : 256))).ToArray();
        await a.WriteAsync(sent).AsTask().WaitAsync(Bound);
        byte[] got = await ReadExactlyAsync(b, sent.Length);
        Assert.Equal(sent, got);

        await b.WriteAsync(new byte[] { 1, 2, 3 }).AsTask().WaitAsync(Bound);
        Assert.Equal(new byte[] { 1, 2, 3 }, await ReadExactlyAsync(a, 3));
    }

    [Fact]
    public async Task Pending_read_ends_promptly_when_cancelled()
    {
        using var pair = await SocatPtyPair.StartAsync();
        await using var a = LinuxSerialPort.Open(new SerialPortSettings(pair.PathA));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var sw = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.ReadAsync(new byte[16], cts.Token).AsTask().WaitAsync(Bound));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3), $"cancel took {sw.Elapsed}");
    }

    [Fact]
    public async Task Pending_read_ends_when_the_port_is_disposed()
    {
        using var pair = await SocatPtyPair.StartAsync();
        var a = LinuxSerialPort.Open(new SerialPortSettings(pair.PathA));
        var read = a.ReadAsync(new byte[16]).AsTask();
        await Task.Delay(100);
        Assert.False(read.IsCompleted);
        a.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => read.WaitAsync(Bound));
    }

    [Fact]
    public async Task Opening_a_port_twice_reports_port_in_use_and_the_lock_is_released_on_dispose()
    {
        using var pair = await SocatPtyPair.StartAsync();
        var first = LinuxSerialPort.Open(new SerialPortSettings(pair.PathA));
        var ex = Assert.Throws<SerialPortException>(() => LinuxSerialPort.Open(new SerialPortSettings(pair.PathA)));
        Assert.Equal(SerialPortError.PortInUse, ex.Error);
        Assert.Contains("in use", ex.Message, StringComparison.Ordinal);
        first.Dispose();
        LinuxSerialPort.Open(new SerialPortSettings(pair.PathA)).Dispose();
    }

    [Fact]
    public async Task The_factory_opens_ports_behind_the_interface()
    {
        using var pair = await SocatPtyPair.StartAsync();
        ISerialPortFactory factory = LinuxSerialPortFactory.Instance;
        await using var a = factory.Open(new SerialPortSettings(pair.PathA, 4800));
        await using var b = factory.Open(new SerialPortSettings(pair.PathB, 4800));
        await a.WriteAsync("=0.06510"u8.ToArray()).AsTask().WaitAsync(Bound);
        Assert.Equal("=0.06510"u8.ToArray(), await ReadExactlyAsync(b, 8));
        Assert.Equal(4800, b.Settings.BaudRate);
        Assert.Same(b, b.AsStream());
    }

    [Fact]
    public void Missing_device_is_reported_as_no_such_device()
    {
        var ex = Assert.Throws<SerialPortException>(() => LinuxSerialPort.Open(new SerialPortSettings("/dev/ttyEDGE-does-not-exist")));
        Assert.Equal(SerialPortError.NoSuchDevice, ex.Error);
        Assert.Contains("/dev/ttyEDGE-does-not-exist", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_regular_file_is_reported_as_not_a_terminal()
    {
        string path = Path.GetTempFileName();
        try
        {
            var ex = Assert.Throws<SerialPortException>(() => LinuxSerialPort.Open(new SerialPortSettings(path)));
            Assert.Equal(SerialPortError.NotATerminal, ex.Error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(13, SerialPortError.PermissionDenied, "Permission denied")]
    [InlineData(1, SerialPortError.PermissionDenied, "dialout")]
    [InlineData(16, SerialPortError.PortInUse, "in use")]
    [InlineData(5, SerialPortError.Disconnected, "disconnected")]
    [InlineData(2, SerialPortError.NoSuchDevice, "does not exist")]
    public void Errno_is_mapped_to_an_actionable_message(int errno, SerialPortError expected, string text)
    {
        // Tests run as root in CI, so EACCES cannot be provoked for real; the mapping is checked directly.
        var ex = LinuxSerialPort.Error(errno, "/dev/ttyS9", "open");
        Assert.Equal(expected, ex.Error);
        Assert.Equal(errno, ex.Errno);
        Assert.Contains(text, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(300, 8)]
    [InlineData(9600, 6)]
    [InlineData(9600, 9)]
    public void Unsupported_settings_are_rejected_before_open(int baud, int dataBits)
    {
        Assert.ThrowsAny<ArgumentException>(() => LinuxSerialPort.Open(new SerialPortSettings("/dev/null", baud, dataBits)));
    }

    [Fact]
    public async Task Hang_up_of_the_peer_ends_reads()
    {
        var pair = await SocatPtyPair.StartAsync();
        await using var a = LinuxSerialPort.Open(new SerialPortSettings(pair.PathA));
        var read = a.ReadAsync(new byte[16]).AsTask();
        pair.Dispose();
        // A pty whose master went away reports EIO (Disconnected) or end of stream.
        try
        {
            int n = await read.WaitAsync(Bound);
            Assert.Equal(0, n);
        }
        catch (SerialPortException ex)
        {
            Assert.Equal(SerialPortError.Disconnected, ex.Error);
        }
    }

    private static async Task<byte[]> ReadExactlyAsync(ISerialPort port, int count)
    {
        using var cts = new CancellationTokenSource(Bound);
        var buffer = new byte[count];
        int got = 0;
        while (got < count)
        {
            int n = await port.ReadAsync(buffer.AsMemory(got), cts.Token);
            Assert.NotEqual(0, n);
            got += n;
        }

        return buffer;
    }
}
