package collab.devnode.analysis;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.synonym.SolrSynonymParser;
import org.apache.lucene.analysis.synonym.SynonymFilter;
import org.apache.lucene.analysis.synonym.SynonymGraphFilter;
import org.apache.lucene.analysis.synonym.SynonymMap;
import org.apache.lucene.analysis.synonym.WordnetSynonymParser;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.IndexService.IndexCreationContext;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalysisMode;
import org.elasticsearch.index.analysis.CharFilterFactory;
import org.elasticsearch.index.analysis.CustomAnalyzer;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.text.ParseException;
import java.util.List;
import java.util.function.Function;

/**
 * synonym and synonym_graph: rules from `synonyms` or `synonyms_path` (solr or wordnet format), analysed by the
 * chain that precedes the filter, as Elasticsearch does. `synonyms_set` needs the synonyms API and is refused.
 */
final class SynonymFilterFactory extends AbstractTokenFilterFactory {

    private final List<String> rules;
    private final boolean graph;
    private final boolean expand;
    private final boolean lenient;
    private final boolean wordnet;
    private final AnalysisMode analysisMode;

    SynonymFilterFactory(Environment env, String name, Settings settings, boolean graph) {
        super(name);
        if (settings.get("synonyms_set") != null) {
            throw new IllegalArgumentException("[synonyms_set] is not supported by the dev node; use [synonyms] or [synonyms_path]");
        }
        this.rules = Analysis.getWordList(env, settings, "synonyms_path", "synonyms", true);
        if (rules == null) {
            throw new IllegalArgumentException("synonym requires either `synonyms`, `synonyms_path` or `synonyms_set` to be configured");
        }
        this.graph = graph;
        this.expand = settings.getAsBoolean("expand", true);
        this.lenient = settings.getAsBoolean("lenient", false);
        this.wordnet = "wordnet".equalsIgnoreCase(settings.get("format", ""));
        this.analysisMode = settings.getAsBoolean("updateable", false) ? AnalysisMode.SEARCH_TIME : AnalysisMode.ALL;
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        throw new IllegalStateException("Call getChainAwareTokenFilterFactory to specialize this factory for an analysis chain first");
    }

    @Override
    public AnalysisMode getAnalysisMode() {
        return analysisMode;
    }

    @Override
    public TokenFilterFactory getChainAwareTokenFilterFactory(
        IndexCreationContext context,
        TokenizerFactory tokenizer,
        List<CharFilterFactory> charFilters,
        List<TokenFilterFactory> previousTokenFilters,
        Function<String, TokenFilterFactory> allFilters
    ) {
        Analyzer chain = new CustomAnalyzer(
            tokenizer,
            charFilters.toArray(new CharFilterFactory[0]),
            previousTokenFilters.stream().map(TokenFilterFactory::getSynonymFilter).toArray(TokenFilterFactory[]::new)
        );
        SynonymMap synonyms = buildSynonyms(chain);
        String name = name();
        AnalysisMode mode = analysisMode;
        boolean isGraph = graph;
        return new AbstractTokenFilterFactory(name) {
            @Override
            public TokenStream create(TokenStream tokenStream) {
                if (synonyms.fst == null) {
                    return tokenStream;
                }
                return isGraph ? new SynonymGraphFilter(tokenStream, synonyms, false) : new SynonymFilter(tokenStream, synonyms, false);
            }

            @Override
            public TokenFilterFactory getSynonymFilter() {
                return IDENTITY_FILTER;
            }

            @Override
            public AnalysisMode getAnalysisMode() {
                return mode;
            }
        };
    }

    private SynonymMap buildSynonyms(Analyzer chain) {
        try {
            SynonymMap.Parser parser = wordnet ? new WordnetSynonymParser(true, expand, chain) : new SolrSynonymParser(true, expand, chain);
            if (lenient == false) {
                parser.parse(new StringReader(String.join("\n", rules)));
            } else {
                for (String rule : rules) {
                    try {
                        parser.parse(new StringReader(rule));
                    } catch (ParseException | IllegalArgumentException skipped) {
                        // lenient: a rule the chain cannot analyse is left out, as Elasticsearch does
                    }
                }
            }
            return parser.build();
        } catch (ParseException e) {
            throw new IllegalArgumentException("failed to build synonyms", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
