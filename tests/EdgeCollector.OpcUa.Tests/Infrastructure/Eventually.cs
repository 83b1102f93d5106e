namespace EdgeCollector.OpcUa.Tests.Infrastructure;

/// <summary>Bounded polling for asynchronous outcomes.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until true; fails the test after <paramref name="timeout"/>.</summary>
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout, string? because = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Condition not met within {timeout.TotalSeconds} s{(because is null ? "" : ": " + because)}");
            await Task.Delay(20);
        }
    }
}
