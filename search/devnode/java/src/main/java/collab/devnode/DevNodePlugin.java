package collab.devnode;

import collab.devnode.analysis.CharFilters;
import collab.devnode.analysis.LanguageAnalyzers;
import collab.devnode.analysis.TokenFilters;
import collab.devnode.analysis.Tokenizers;

import org.apache.lucene.analysis.Analyzer;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.index.analysis.CharFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.rest.RestHandler;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Stands in for the Elasticsearch modules Maven Central does not carry: the analysis components of
 * analysis-common (rebuilt from Lucene under the same names) and the GET / and HEAD / handlers of rest-root.
 */
public class DevNodePlugin extends Plugin implements AnalysisPlugin, ActionPlugin {

    private volatile ClusterService clusterService;

    @Override
    public Collection<?> createComponents(PluginServices services) {
        clusterService = services.clusterService();
        return List.of();
    }

    @Override
    public Collection<RestHandler> getRestHandlers(
        RestHandlersServices restHandlersServices,
        Supplier<org.elasticsearch.cluster.node.DiscoveryNodes> nodesInCluster,
        Predicate<org.elasticsearch.features.NodeFeature> clusterSupportsFeature
    ) {
        return List.of(new RestRootAction(() -> clusterService));
    }

    @Override
    public Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> getAnalyzers() {
        return LanguageAnalyzers.providers();
    }

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return Tokenizers.providers();
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return TokenFilters.providers();
    }

    @Override
    public Map<String, AnalysisProvider<CharFilterFactory>> getCharFilters() {
        return CharFilters.providers();
    }
}
