namespace EdgeCollector.Modbus.Tests.Infrastructure;

/// <summary>
/// Two connected pseudo-terminals made by <c>socat pty,raw,echo=0,link=A pty,raw,echo=0,link=B</c>:
/// bytes written to <see cref="PathA"/> come out of <see cref="PathB"/> and back.
/// </summary>
public sealed class SocatPtyPair : IDisposable
{
    private readonly PeerProcess _socat;
    private readonly string _dir;

    private SocatPtyPair(PeerProcess socat, string dir)
    {
        _socat = socat;
        _dir = dir;
    }

    public string PathA => Path.Combine(_dir, "a");

    public string PathB => Path.Combine(_dir, "b");

    public static async Task<SocatPtyPair> StartAsync()
    {
        string dir = Path.Combine(Path.GetTempPath(), "edge-pty-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var socat = PeerProcess.Start("socat", "-d", "-d",
            $"pty,raw,echo=0,link={dir}/a", $"pty,raw,echo=0,link={dir}/b");
        var pair = new SocatPtyPair(socat, dir);
        try
        {
            await socat.WaitUntilAsync(
                () => File.Exists(pair.PathA) && File.Exists(pair.PathB) && socat.Output.Contains("starting data transfer loop", StringComparison.Ordinal),
                TimeSpan.FromSeconds(10), "socat pty pair");
            return pair;
        }
        catch
        {
            pair.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _socat.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
