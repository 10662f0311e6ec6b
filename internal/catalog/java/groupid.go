package java

import "strings"

// knownGroup maps well-known artifactIds to their groupId, for archives
// that carry no pom.properties. It is deliberately short: the artifacts
// that advisories name often and whose jars are commonly built without
// Maven metadata (Spring Framework modules, Bouncy Castle, Ant, old
// Apache Commons), or whose manifests point elsewhere. Where the groupId
// moved between major versions (dom4j, Hibernate, Groovy) no guess is
// made.
func knownGroup(artifact string) string {
	a := strings.ToLower(artifact)
	if g, ok := knownGroups[a]; ok {
		return g
	}
	for _, p := range knownPrefixes {
		if strings.HasPrefix(a, p.prefix) {
			return p.group
		}
	}
	if isBouncyCastle(a) {
		return "org.bouncycastle"
	}
	return ""
}

var knownGroups = map[string]string{
	// Spring Framework jars ship without pom.properties.
	"spring":                   "org.springframework",
	"spring-aop":               "org.springframework",
	"spring-aspects":           "org.springframework",
	"spring-beans":             "org.springframework",
	"spring-context":           "org.springframework",
	"spring-context-indexer":   "org.springframework",
	"spring-context-support":   "org.springframework",
	"spring-core":              "org.springframework",
	"spring-expression":        "org.springframework",
	"spring-instrument":        "org.springframework",
	"spring-jcl":               "org.springframework",
	"spring-jdbc":              "org.springframework",
	"spring-jms":               "org.springframework",
	"spring-messaging":         "org.springframework",
	"spring-orm":               "org.springframework",
	"spring-oxm":               "org.springframework",
	"spring-r2dbc":             "org.springframework",
	"spring-test":              "org.springframework",
	"spring-tx":                "org.springframework",
	"spring-web":               "org.springframework",
	"spring-webflux":           "org.springframework",
	"spring-webmvc":            "org.springframework",
	"spring-webmvc-portlet":    "org.springframework",
	"spring-websocket":         "org.springframework",
	"spring-amqp":              "org.springframework.amqp",
	"spring-rabbit":            "org.springframework.amqp",
	"spring-kafka":             "org.springframework.kafka",
	"spring-hateoas":           "org.springframework.hateoas",
	"spring-retry":             "org.springframework.retry",
	"spring-webflow":           "org.springframework.webflow",
	"spring-plugin-core":       "org.springframework.plugin",
	"spring-shell":             "org.springframework.shell",
	"spring-vault-core":        "org.springframework.vault",
	"spring-statemachine-core": "org.springframework.statemachine",

	// Apache Commons artifacts whose groupId is their artifactId; the
	// newer ones (commons-lang3, commons-text, …) are org.apache.commons.
	"commons-beanutils":      "commons-beanutils",
	"commons-cli":            "commons-cli",
	"commons-codec":          "commons-codec",
	"commons-collections":    "commons-collections",
	"commons-configuration":  "commons-configuration",
	"commons-dbcp":           "commons-dbcp",
	"commons-digester":       "commons-digester",
	"commons-discovery":      "commons-discovery",
	"commons-el":             "commons-el",
	"commons-fileupload":     "commons-fileupload",
	"commons-httpclient":     "commons-httpclient",
	"commons-io":             "commons-io",
	"commons-jxpath":         "commons-jxpath",
	"commons-lang":           "commons-lang",
	"commons-logging":        "commons-logging",
	"commons-net":            "commons-net",
	"commons-pool":           "commons-pool",
	"commons-validator":      "commons-validator",
	"commons-collections4":   "org.apache.commons",
	"commons-compress":       "org.apache.commons",
	"commons-configuration2": "org.apache.commons",
	"commons-csv":            "org.apache.commons",
	"commons-dbcp2":          "org.apache.commons",
	"commons-email":          "org.apache.commons",
	"commons-exec":           "org.apache.commons",
	"commons-lang3":          "org.apache.commons",
	"commons-math3":          "org.apache.commons",
	"commons-pool2":          "org.apache.commons",
	"commons-text":           "org.apache.commons",
	"commons-vfs2":           "org.apache.commons",

	"ant":                  "org.apache.ant",
	"axis":                 "org.apache.axis",
	"log4j":                "log4j",
	"xalan":                "xalan",
	"serializer":           "xalan",
	"xercesimpl":           "xerces",
	"xml-apis":             "xml-apis",
	"httpclient":           "org.apache.httpcomponents",
	"httpcore":             "org.apache.httpcomponents",
	"httpmime":             "org.apache.httpcomponents",
	"httpasyncclient":      "org.apache.httpcomponents",
	"httpcore-nio":         "org.apache.httpcomponents",
	"struts2-core":         "org.apache.struts",
	"struts-core":          "org.apache.struts",
	"jackson-core":         "com.fasterxml.jackson.core",
	"jackson-databind":     "com.fasterxml.jackson.core",
	"jackson-annotations":  "com.fasterxml.jackson.core",
	"guava":                "com.google.guava",
	"failureaccess":        "com.google.guava",
	"gson":                 "com.google.code.gson",
	"protobuf-java":        "com.google.protobuf",
	"protobuf-java-util":   "com.google.protobuf",
	"snakeyaml":            "org.yaml",
	"xstream":              "com.thoughtworks.xstream",
	"h2":                   "com.h2database",
	"mysql-connector-java": "mysql",
	"mysql-connector-j":    "com.mysql",
	"postgresql":           "org.postgresql",
	"json-smart":           "net.minidev",
	"netty":                "io.netty",
	"okhttp":               "com.squareup.okhttp3",
	"jsoup":                "org.jsoup",
	"velocity":             "org.apache.velocity",
	"velocity-engine-core": "org.apache.velocity",
	"freemarker":           "org.freemarker",
	"batik-all":            "org.apache.xmlgraphics",
	"zookeeper":            "org.apache.zookeeper",
	"kafka-clients":        "org.apache.kafka",
	"elasticsearch":        "org.elasticsearch",
	"ognl":                 "ognl",
	"c3p0":                 "com.mchange",
	"quartz":               "org.quartz-scheduler",
	"shiro-core":           "org.apache.shiro",
	"shiro-web":            "org.apache.shiro",
	"tika-core":            "org.apache.tika",
	"activemq-client":      "org.apache.activemq",
	"jdom":                 "org.jdom",
	"jdom2":                "org.jdom",
	"mina-core":            "org.apache.mina",
	"ehcache":              "net.sf.ehcache",
	"jettison":             "org.codehaus.jettison",
	"woodstox-core":        "com.fasterxml.woodstox",
	"bcel":                 "org.apache.bcel",
	"poi":                  "org.apache.poi",
}

// knownPrefixes cover families whose members share a groupId. Longer
// prefixes come first.
var knownPrefixes = []struct{ prefix, group string }{
	{"spring-boot", "org.springframework.boot"},
	{"spring-security-", "org.springframework.security"},
	{"spring-data-", "org.springframework.data"},
	{"spring-cloud-", "org.springframework.cloud"},
	{"spring-integration-", "org.springframework.integration"},
	{"spring-batch-", "org.springframework.batch"},
	{"spring-session-", "org.springframework.session"},
	{"spring-ws-", "org.springframework.ws"},
	{"spring-ldap-", "org.springframework.ldap"},
	{"spring-graphql", "org.springframework.graphql"},
	{"ant-", "org.apache.ant"},
	{"log4j-over-slf4j", "org.slf4j"},
	{"log4j-", "org.apache.logging.log4j"},
	{"tomcat-embed-", "org.apache.tomcat.embed"},
	{"jetty-", "org.eclipse.jetty"},
	{"netty-", "io.netty"},
	{"jackson-module-", "com.fasterxml.jackson.module"},
	{"jackson-datatype-", "com.fasterxml.jackson.datatype"},
	{"jackson-dataformat-", "com.fasterxml.jackson.dataformat"},
	{"slf4j-", "org.slf4j"},
	{"jul-to-slf4j", "org.slf4j"},
	{"jcl-over-slf4j", "org.slf4j"},
	{"logback-", "ch.qos.logback"},
	{"poi-", "org.apache.poi"},
	{"lucene-", "org.apache.lucene"},
	{"solr-", "org.apache.solr"},
	{"cxf-", "org.apache.cxf"},
	{"camel-", "org.apache.camel"},
	{"kotlin-", "org.jetbrains.kotlin"},
	{"hadoop-", "org.apache.hadoop"},
}

// isBouncyCastle matches the Bouncy Castle jars: bcprov-jdk18on,
// bcpkix-jdk15on, bcprov-ext-jdk15to18, bc-fips, bctls-fips, ….
func isBouncyCastle(a string) bool {
	if a == "bc-fips" || a == "bc-fips-debug" {
		return true
	}
	if !strings.HasPrefix(a, "bc") {
		return false
	}
	for _, s := range []string{"-jdk1", "-lts", "-fips", "-debug-", "-ext-"} {
		if strings.Contains(a, s) {
			return true
		}
	}
	return false
}
