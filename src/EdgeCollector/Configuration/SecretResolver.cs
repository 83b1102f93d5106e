namespace EdgeCollector.Configuration;

/// <summary>
/// Resolves secrets named by the configuration's <c>…Env</c> keys (contracts.md §1: secrets are
/// never in the file). Callers must never log the value, only the variable's name.
/// </summary>
public static class SecretResolver
{
    /// <summary>Reads the environment variable <paramref name="envName"/>.</summary>
    /// <param name="envName">The variable's name as configured (e.g. <c>PLC_PASSWORD</c>); null or blank means no secret is configured.</param>
    /// <returns>The variable's value, or null when no name is given or the variable is unset or empty.</returns>
    public static string? Resolve(string? envName)
    {
        if (string.IsNullOrWhiteSpace(envName))
            return null;
        var value = Environment.GetEnvironmentVariable(envName);
        return string.IsNullOrEmpty(value) ? null : value;
    }
}
