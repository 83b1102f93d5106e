namespace EdgeCollector.Modbus.Tests.Infrastructure;

/// <summary>Puts random noise on the line before every write, as a bad RS-485 segment would.</summary>
public sealed class NoisyStream(Stream inner, int seed) : Stream
{
    private readonly Random _random = new(seed);
    private long _noise;

    /// <summary>Noise bytes written so far.</summary>
    public long NoiseBytes => Interlocked.Read(ref _noise);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var noise = new byte[_random.Next(1, 24)];
        _random.NextBytes(noise);
        Interlocked.Add(ref _noise, noise.Length);
        await inner.WriteAsync(noise.Concat(buffer.ToArray()).ToArray(), cancellationToken);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
