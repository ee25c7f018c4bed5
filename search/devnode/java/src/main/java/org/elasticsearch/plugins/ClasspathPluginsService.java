package org.elasticsearch.plugins;

import org.elasticsearch.Build;
import org.elasticsearch.common.settings.Settings;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loads plugins from classes already on the classpath, because the dev node ships no plugin bundles on disk.
 * Lives in this package to reach the package-private pieces the test framework's MockPluginsService also uses.
 */
public class ClasspathPluginsService extends PluginsService {

    private final List<LoadedPlugin> classpathPlugins;

    public ClasspathPluginsService(Settings settings, Path configDir, Collection<Class<? extends Plugin>> pluginClasses) {
        super(settings, configDir, emptyPluginsLoader());
        List<LoadedPlugin> loaded = new ArrayList<>();
        for (Class<? extends Plugin> pluginClass : pluginClasses) {
            Plugin plugin = loadPlugin(pluginClass, settings, configDir);
            loaded.add(new LoadedPlugin(describe(pluginClass), plugin, pluginClass.getClassLoader()));
        }
        loadExtensions(loaded);
        this.classpathPlugins = List.copyOf(loaded);
    }

    /** A loader with no modules or plugins: everything the node needs is on the classpath. */
    public static PluginsLoader emptyPluginsLoader() {
        return new PluginsLoader(Set.of(), Set.of(), Map.of());
    }

    private static PluginDescriptor describe(Class<? extends Plugin> pluginClass) {
        return new PluginDescriptor(
            pluginClass.getName(),
            "classpath plugin",
            "NA",
            Build.current().version(),
            Integer.toString(Runtime.version().feature()),
            pluginClass.getName(),
            null,
            List.of(),
            false,
            false,
            false,
            false,
            PluginDescriptor.DeploymentTarget.ALL
        );
    }

    @Override
    protected List<LoadedPlugin> plugins() {
        return classpathPlugins;
    }
}
