package collab.devnode.analysis;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.core.SimpleAnalyzer;
import org.apache.lucene.analysis.core.StopAnalyzer;
import org.apache.lucene.analysis.core.WhitespaceAnalyzer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.es.SpanishAnalyzer;
import org.apache.lucene.analysis.fr.FrenchAnalyzer;
import org.apache.lucene.analysis.de.GermanAnalyzer;
import org.apache.lucene.analysis.it.ItalianAnalyzer;
import org.apache.lucene.analysis.pt.PortugueseAnalyzer;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/** The analyzers of Elasticsearch's analysis-common module that a content search uses, built from Lucene's. */
public final class LanguageAnalyzers {

    private LanguageAnalyzers() {}

    public static Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> providers() {
        Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> providers = new TreeMap<>();
        providers.put("english", language(EnglishAnalyzer.getDefaultStopSet(), EnglishAnalyzer::new));
        providers.put("french", language(FrenchAnalyzer.getDefaultStopSet(), FrenchAnalyzer::new));
        providers.put("german", language(GermanAnalyzer.getDefaultStopSet(), GermanAnalyzer::new));
        providers.put("spanish", language(SpanishAnalyzer.getDefaultStopSet(), SpanishAnalyzer::new));
        providers.put("italian", language(ItalianAnalyzer.getDefaultStopSet(), ItalianAnalyzer::new));
        providers.put("portuguese", language(PortugueseAnalyzer.getDefaultStopSet(), PortugueseAnalyzer::new));
        providers.put("simple", (index, env, name, settings) -> analyzer(name, SimpleAnalyzer::new));
        providers.put("whitespace", (index, env, name, settings) -> analyzer(name, WhitespaceAnalyzer::new));
        providers.put("stop", (index, env, name, settings) -> {
            CharArraySet stopwords = Analysis.parseStopWords(env, settings, EnglishAnalyzer.getDefaultStopSet());
            return analyzer(name, () -> new StopAnalyzer(stopwords));
        });
        return providers;
    }

    /** A language analyzer taking `stopwords` (or `stopwords_path`) and `stem_exclusion`, like Elasticsearch's. */
    private static AnalysisProvider<AnalyzerProvider<? extends Analyzer>> language(
        CharArraySet defaultStopwords,
        BiFunction<CharArraySet, CharArraySet, Analyzer> constructor
    ) {
        return (index, env, name, settings) -> {
            CharArraySet stopwords = Analysis.parseStopWords(env, settings, defaultStopwords);
            CharArraySet stemExclusion = Analysis.parseStemExclusion(settings, CharArraySet.EMPTY_SET);
            return analyzer(name, () -> constructor.apply(stopwords, stemExclusion));
        };
    }

    private static AnalyzerProvider<Analyzer> analyzer(String name, Supplier<Analyzer> constructor) {
        Analyzer analyzer = constructor.get();
        return new AbstractIndexAnalyzerProvider<>(name) {
            @Override
            public Analyzer get() {
                return analyzer;
            }
        };
    }
}
