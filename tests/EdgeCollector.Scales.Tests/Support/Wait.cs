using System.Diagnostics;

namespace EdgeCollector.Scales.Tests.Support;

internal static class Wait
{
    /// <summary>Polls <paramref name="condition"/> until true; fails the test after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > timeout)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds} s waiting for {what}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Awaits <paramref name="task"/>; fails the test after <paramref name="timeout"/>.</summary>
    public static async Task BoundedAsync(Task task, TimeSpan timeout, string what)
    {
        if (await Task.WhenAny(task, Task.Delay(timeout)) != task)
        {
            Assert.Fail($"timed out after {timeout.TotalSeconds} s waiting for {what}");
        }

        await task;
    }
}
