using Kv.Client;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="KvClient"/> in a service collection.</summary>
public static class KvClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="KvClient"/> singleton (disposed with the container) for <paramref name="endpoints"/>.
    /// Its logger comes from the container's <see cref="ILoggerFactory"/> unless <paramref name="configure"/> sets one.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="endpoints">Seed endpoints, e.g. <c>http://10.0.0.1:7100</c>.</param>
    /// <param name="configure">Adjusts the options.</param>
    public static IServiceCollection AddKvClient(this IServiceCollection services, IEnumerable<string> endpoints, Action<KvClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(endpoints);
        var seeds = endpoints.ToArray();
        services.TryAddSingleton(provider =>
        {
            var options = new KvClientOptions();
            configure?.Invoke(options);
            options.Logger ??= (provider.GetService(typeof(ILoggerFactory)) as ILoggerFactory)?.CreateLogger<KvClient>();
            return new KvClient(seeds, options);
        });
        return services;
    }
}
