//! The alert model on the server: alerts fire once and resolve once, keep
//! their state across a restart, and come from the sources as they stand —
//! a lane told to force fallback, a platform that cannot be reached.

use chrono::{Duration, Utc};
use opsdeck_api::alerts::model::{
    Alert, AlertSeverity, AlertSource, AlertState, AlertsPage, Transition, paths,
};
use opsdeck_server::alerting::{apply, evaluate};

use crate::support::{Console, TestConsole, get_json};

fn alert(key: &str, severity: AlertSeverity) -> Alert {
    Alert {
        source: AlertSource::Vp,
        key: key.into(),
        severity,
        summary: format!("{key} raised"),
        evidence: Vec::new(),
        link: "/ops/vp".into(),
        next_step: None,
        period: None,
    }
}

#[tokio::test]
async fn an_alert_fires_once_resolves_once_and_survives_a_restart() {
    let console =
        TestConsole::new().with(|a| a.alert_model.alert_sources = vec!["upstream".into()]);
    let running = console.start().await;
    let store = &running.state.store;
    let now = Utc::now();
    let a = alert("vp:lane-a:force_fallback", AlertSeverity::Critical);
    let fired = apply(store, vec![a.clone()], vec![], now).await.unwrap();
    assert_eq!(fired, vec![Transition::Fired(a.clone())]);
    // Raised again: nothing changes, nothing to send.
    assert!(
        apply(store, vec![a.clone()], vec![], now + Duration::seconds(30))
            .await
            .unwrap()
            .is_empty()
    );
    // Its source unread: it keeps firing rather than resolving on a failed read.
    assert!(
        apply(
            store,
            vec![],
            vec![AlertSource::Vp],
            now + Duration::seconds(60)
        )
        .await
        .unwrap()
        .is_empty()
    );
    drop(running);

    let again = console.start().await;
    let page: AlertsPage = get_json(&again, paths::ALERTS).await;
    assert_eq!(page.firing.len(), 1);
    assert_eq!(page.firing[0].alert.key, a.key);
    assert_eq!(page.firing[0].state, AlertState::Firing);
    // Read and gone: it resolves, once.
    let store = &again.state.store;
    let later = now + Duration::seconds(90);
    let resolved = apply(store, vec![], vec![], later).await.unwrap();
    assert_eq!(resolved, vec![Transition::Resolved(a.key.clone())]);
    assert!(
        apply(store, vec![], vec![], later)
            .await
            .unwrap()
            .is_empty()
    );
    let page: AlertsPage = get_json(&again, paths::ALERTS).await;
    assert!(page.firing.is_empty());
    assert_eq!(page.resolved.len(), 1);
    assert!(page.resolved[0].resolved_at.is_some());
}

#[tokio::test]
async fn a_lane_told_to_force_fallback_fires_its_alert_and_viewers_read_it() {
    let c = Console::new(|a| {
        a.sim.sim_vp_force_fallback_rate = vec!["vp.coder.primary=0.4".parse().unwrap()];
        a.alert_model.alert_sources = vec!["vp".into(), "guardrail".into(), "upstream".into()];
    })
    .await;
    let changes = evaluate(c.state(), Utc::now()).await.unwrap();
    let keys: Vec<String> = changes
        .iter()
        .filter_map(|t| match t {
            Transition::Fired(a) => Some(a.key.clone()),
            Transition::Resolved(_) => None,
        })
        .collect();
    assert!(
        keys.contains(&"vp:vp.coder.primary:force_fallback".to_string()),
        "{keys:?}"
    );
    assert!(!keys.iter().any(|k| k.starts_with("upstream:")), "{keys:?}");
    let page: AlertsPage = c.read(paths::ALERTS).await;
    assert!(page.unread.is_empty(), "{:?}", page.unread);
    let vp = page
        .firing
        .iter()
        .find(|s| s.alert.source == AlertSource::Vp)
        .expect("the VP alert fires");
    assert_eq!(vp.alert.severity, AlertSeverity::Critical);
    assert!(
        vp.alert
            .evidence
            .iter()
            .any(|e| e.name == "fallback_rate_critical"),
        "{:?}",
        vp.alert.evidence
    );
}

#[tokio::test]
async fn a_platform_that_cannot_be_reached_fires_the_upstream_alert_and_resolves_nothing_else() {
    let c = Console::from(TestConsole::new().remote("http://127.0.0.1:9").with(|a| {
        a.alert_model.alert_sources = vec!["vp".into(), "guardrail".into(), "upstream".into()];
        a.alert_model.alert_upstream_down_seconds = 0;
    }))
    .await;
    // A VP alert firing from before the platform went away.
    let earlier = alert(
        "vp:vp.coder.primary:force_fallback",
        AlertSeverity::Critical,
    );
    apply(&c.state().store, vec![earlier.clone()], vec![], Utc::now())
        .await
        .unwrap();
    let changes = evaluate(c.state(), Utc::now()).await.unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    let Transition::Fired(up) = &changes[0] else {
        panic!("{changes:?}");
    };
    assert_eq!(up.key, "upstream:unreachable");
    let page: AlertsPage = c.read(paths::ALERTS).await;
    let unread: Vec<AlertSource> = page.unread.iter().map(|(s, _)| *s).collect();
    assert!(unread.contains(&AlertSource::Vp) && unread.contains(&AlertSource::Guardrail));
    assert!(page.firing.iter().any(|s| s.alert.key == earlier.key));
}
