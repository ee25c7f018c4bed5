package org.elasticsearch.node;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configurator;
import org.elasticsearch.cluster.ClusterName;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.ClasspathPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;
import org.elasticsearch.transport.netty4.Netty4Plugin;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import collab.devnode.DevNodePlugin;

/**
 * Runs one real Elasticsearch node in this JVM with its plugins taken from the classpath.
 * It sits in this package because {@link NodeConstruction} is package-private, and it skips what only the
 * packaged distribution has: the entitlement agent, bootstrap checks and the CLI launcher process.
 *
 * Arguments are node settings as key=value; path.home is required.
 */
public final class DevNodeLauncher {

    private static final List<Class<? extends Plugin>> PLUGINS = List.of(Netty4Plugin.class, DevNodePlugin.class);

    private DevNodeLauncher() {}

    public static void main(String[] args) throws Exception {
        Settings settings = parseSettings(args);
        Path home = Path.of(Environment.PATH_HOME_SETTING.get(settings));
        Path configDir = home.resolve("config");
        writeLoggingConfig(configDir);

        LogConfigurator.registerErrorListener();
        Environment environment = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), configDir, () -> "devnode");
        LogConfigurator.setClusterName(ClusterName.CLUSTER_NAME_SETTING.get(environment.settings()).value());
        LogConfigurator.setNodeName(Node.NODE_NAME_SETTING.get(environment.settings()));
        LogConfigurator.configure(environment, true);

        Node node = new Node(
            NodeConstruction.prepareConstruction(environment, ClasspathPluginsService.emptyPluginsLoader(), new ClasspathServices(), true)
        );
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(node, stopped), "devnode-shutdown"));
        node.start();
        stopped.await();
    }

    private static Settings parseSettings(String[] args) {
        Settings.Builder builder = Settings.builder();
        for (String arg : args) {
            int equals = arg.indexOf('=');
            if (equals < 1) {
                throw new IllegalArgumentException("expected key=value, got [" + arg + "]");
            }
            builder.put(arg.substring(0, equals), arg.substring(equals + 1));
        }
        return builder.build();
    }

    /** Logging reads log4j2.properties from the config dir, as in the distribution; ours logs to stdout. */
    private static void writeLoggingConfig(Path configDir) throws IOException {
        Files.createDirectories(configDir);
        try (InputStream in = DevNodeLauncher.class.getResourceAsStream("/collab/devnode/log4j2.properties")) {
            Files.copy(in, configDir.resolve("log4j2.properties"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void stop(Node node, CountDownLatch stopped) {
        try {
            node.prepareForClose();
            node.close();
            if (node.awaitClose(10, TimeUnit.SECONDS) == false) {
                LogManager.getLogger(DevNodeLauncher.class).warn("node did not stop within 10 seconds");
            }
        } catch (Exception e) {
            LogManager.getLogger(DevNodeLauncher.class).error("failed to stop the node cleanly", e);
        } finally {
            Configurator.shutdown((LoggerContext) LogManager.getContext(false));
            stopped.countDown();
        }
    }

    /** Hands the node our classpath plugins instead of scanning modules/ and plugins/ directories. */
    private static final class ClasspathServices extends NodeServiceProvider {
        @Override
        PluginsService newPluginService(Environment environment, PluginsLoader pluginsLoader) {
            return new ClasspathPluginsService(environment.settings(), environment.configDir(), PLUGINS);
        }
    }
}
