// 扶贫数据: each page reads its JSON endpoint (relative paths: the app sits under /fupin/) and draws.
"use strict";
const $ = (s, el = document) => el.querySelector(s);
const county = document.body.dataset.county;
const app = $("#app");

function esc(v) {
  return v === null || v === undefined ? "" : String(v).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
function ml(m) { return m ? `${m.slice(0, 4)}年${parseInt(m.slice(5), 10)}月` : "—"; }  // 2018-10 → 2018年10月
// the page's filters live in its address: a reload or a shared link shows the same view
function remember(params) {
  const url = new URL(location.href);
  for (const [k, v] of Object.entries(params)) { if (v) url.searchParams.set(k, v); else url.searchParams.delete(k); }
  history.replaceState(null, "", url);
}
function asked(...keys) { const p = new URLSearchParams(location.search); return Object.fromEntries(keys.map(k => [k, p.get(k) || ""])); }
function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }
function api(path, params = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== ""));
  if (county) q.set("county", county);
  const qs = q.toString();
  return "api/" + path + (qs ? "?" + qs : "");
}
async function getJSON(path, params) {
  const r = await fetch(api(path, params), {credentials: "same-origin"});
  if (r.status === 401 || r.status === 403) { location.reload(); throw new Error("请重新登录"); }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.detail || ("读取失败（" + r.status + "）"));
  return body;
}
function fail(e) { app.innerHTML = `<p class="error">${esc(e.message)}</p>`; }
function dialog(html) {
  const d = $("#dialog");
  d.innerHTML = `<div role="dialog">${html}<p><button class="plain" id="close">关闭</button></p></div>`;
  d.hidden = false;
  $("#close", d).onclick = () => { d.hidden = true; };
  d.onclick = ev => { if (ev.target === d) d.hidden = true; };
}
function options(sel, values, labels, chosen) {
  sel.innerHTML = values.map((v, i) => `<option value="${esc(v)}"${v === chosen ? " selected" : ""}>${esc(labels ? labels[i] : v)}</option>`).join("");
}
function tag(state, label) { return `<span class="tag ${esc(state)}">${esc(label)}</span>`; }

// a line chart: series {name: [values]} over labels; plain SVG
const COLOURS = ["#b3261e", "#1c7ed6", "#2f9e44", "#f59f00", "#7048e8", "#0c8599", "#e8590c"];
function lineChart(labels, series, {height = 220, title = ""} = {}) {
  const names = Object.keys(series);
  const W = 900, H = height, L = 40, R = 150, T = 24, B = 30;
  const max = Math.max(1, ...names.flatMap(n => series[n].map(v => v || 0)));
  const x = i => L + (labels.length < 2 ? 0 : i * (W - L - R) / (labels.length - 1));
  const y = v => T + (H - T - B) * (1 - (v || 0) / max);
  let svg = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}"><text x="${L}" y="16" font-size="14" fill="#1f2933">${esc(title)}</text>`;
  for (let k = 0; k <= 4; k++) {
    const v = Math.round(max * k / 4), yy = y(v);
    svg += `<line x1="${L}" x2="${W - R}" y1="${yy}" y2="${yy}" stroke="#e9ecef"/><text x="${L - 6}" y="${yy + 4}" font-size="11" text-anchor="end" fill="#616e7c">${v}</text>`;
  }
  const step = Math.ceil(labels.length / 12);
  labels.forEach((lab, i) => { if (i % step === 0 || i === labels.length - 1) svg += `<text x="${x(i)}" y="${H - 10}" font-size="11" text-anchor="middle" fill="#616e7c">${esc(lab)}</text>`; });
  names.forEach((n, j) => {
    const c = COLOURS[j % COLOURS.length];
    const pts = series[n].map((v, i) => `${x(i)},${y(v)}`).join(" ");
    svg += `<polyline fill="none" stroke="${c}" stroke-width="2.2" points="${pts}"/>`;
    svg += `<rect x="${W - R + 12}" y="${T + j * 20}" width="12" height="12" fill="${c}"/><text x="${W - R + 30}" y="${T + j * 20 + 11}" font-size="12" fill="#1f2933">${esc(n)}</text>`;
  });
  return `<div class="chart">${svg}</svg></div>`;
}

// --- 报送情况 ----------------------------------------------------------------------------------
async function submissions(year) {
  const d = await getJSON("submissions", {year});
  remember({year: year ? String(d.year) : ""});
  const sel = $("#year");
  options(sel, d.years.map(String), d.years.map(y => y + "年"), String(d.year));
  sel.onchange = () => submissions(sel.value).catch(fail);
  const periods = Object.keys(d.units[0] ? d.units[0].rates : {});
  const last = periods[periods.length - 1];
  const exp = d.units.reduce((a, u) => a + (u.rates[last] ? u.rates[last].expected : 0), 0);
  const rep = d.units.reduce((a, u) => a + (u.rates[last] ? u.rates[last].reported : 0), 0);
  const ont = d.units.reduce((a, u) => a + (u.rates[last] ? u.rates[last].on_time : 0), 0);
  const bad = d.units.reduce((a, u) => a + u.cells.filter(c => c.status === "rejected" || c.status === "missing").length, 0);
  let html = `<div class="cards"><div class="card"><div class="n">${pct(exp ? rep / exp : null)}</div><div class="t">${d.year}年报送率（${rep}/${exp} 份）</div></div>
    <div class="card"><div class="n">${pct(exp ? ont / exp : null)}</div><div class="t">按时报送率（${d.due}前）</div></div>
    <div class="card"><div class="n">${bad}</div><div class="t">未报送或未通过（单位·月）</div></div></div>`;
  html += `<div class="scroll"><table id="board"><thead><tr><th>单位</th>${d.month_labels.map(m => `<th>${m}</th>`).join("")}`;
  html += periods.map(p => `<th class="num">${esc(d.units[0].rates[p].label.replace(/^\d+年/, ""))}<br><span class="muted">报送率/按时率</span></th>`).join("") + "</tr></thead><tbody>";
  for (const u of d.units) {
    html += `<tr data-unit="${esc(u.unit)}"><th>${esc(u.name)}</th>`;
    for (const c of u.cells) {
      const tip = c.status === "not_due" ? "未到报送期限" : `${c.label}${c.first_drop ? "；首次报送 " + c.first_drop : ""}${c.drops > 1 ? "；共 " + c.drops + " 次" : ""}${c.rows !== null ? "；入库 " + c.rows + " 行" : ""}`;
      html += `<td><button class="cell ${c.status}" data-month="${c.month}" data-status="${c.status}" data-receipt="${esc(c.receipt || "")}" title="${esc(tip)}">${c.label}</button></td>`;
    }
    html += periods.map(p => `<td class="num" data-period="${p}">${pct(u.rates[p].reporting_rate)} / ${pct(u.rates[p].on_time_rate)}</td>`).join("") + "</tr>";
  }
  app.innerHTML = html + "</tbody></table></div><p class=\"muted\">点击格子查看该月最近一次报送的回执。应报：报送期限已过的月份；报送率=有效报送/应报，按时率=期限内有效报送/应报。</p>";
  app.querySelectorAll("button.cell").forEach(b => b.onclick = async () => {
    if (!b.dataset.receipt) { dialog(`<p>${esc(b.title || "本月尚无报送")}</p>`); return; }
    try {
      const r = await getJSON("receipts/" + encodeURIComponent(b.dataset.receipt));
      dialog(`<h2>${esc(r.file)}</h2><pre>${esc(r.text)}</pre>`);
    } catch (e) { dialog(`<p class="error">${esc(e.message)}</p>`); }
  });
}

// --- 比对结果 ----------------------------------------------------------------------------------
// a finding's check as shown, and its 核查 button where the viewer may record one
function checkCell(f, canVerify = true) {
  const v = f.verification;
  const check = v ? `${esc(v.label)}${v.due ? "（期限 " + esc(v.due) + "）" : ""}${v.reason ? "：" + esc(v.reason) : ""}<br><span class="muted">${esc(v.unit || "")} ${esc(v.by)} ${esc(v.at)}·${esc(v.via)}</span>` : "";
  return `<td class="wrap">${check}${canVerify && f.may_verify && f.state !== "dismissed" ? `<br><button class="plain verify" data-id="${esc(f.id)}">核查</button>` : ""}</td>`;
}
function findingRow(f, withMonth = false, canVerify = true) {
  return `<tr data-id="${esc(f.id)}">${withMonth ? `<td>${esc(f.month_label)}</td>` : ""}<td>${esc(f.rule)} ${esc(f.rule_name)}</td><td>${esc(f.town)}</td>
    <td>${f.household_id ? `<a href="./household?q=${encodeURIComponent(f.household_id)}${county ? "&county=" + county : ""}">${esc(f.household_id)}</a>` : ""}${f.card_no ? "<br>低保证 " + esc(f.card_no) : ""}</td>
    <td data-label="身份证号">${esc(f.person_id)}${f.other_id ? "<br>疑似 " + esc(f.other_id) : ""}</td><td class="wrap">${esc(f.detail)}</td>
    <td class="num" data-label="连续月数">${f.persisted_months}</td><td>${tag(f.state, f.state_label)}${f.escalated ? " " + tag("esc", "已上报领导") : ""}</td>
    ${checkCell(f, canVerify)}</tr>`;
}
const FINDING_HEAD = "<th>规则</th><th>镇（街）</th><th>户编号</th><th>身份证号</th><th>说明</th><th class=\"num\">连续月数</th><th>状态</th><th>核查</th>";

function verifyForm(id, after) {
  dialog(`<h2>核查结果</h2><form class="verify" id="vf">
    <label><input type="radio" name="outcome" value="rectified" required> 属实已整改</label>
    <label><input type="radio" name="outcome" value="confirmed"> 属实待整改，整改期限 <input type="date" name="due"></label>
    <label><input type="radio" name="outcome" value="dismissed"> 不属实</label>
    <label>说明 <textarea name="reason" rows="2" cols="40" placeholder="不属实须说明理由，如：经入户核实为两个不同的人"></textarea></label>
    <div><button type="submit">提交</button> <span class="error" id="verr"></span></div></form>`);
  $("#vf").onsubmit = async ev => {
    ev.preventDefault();
    const fd = new FormData(ev.target);
    const r = await fetch(api(`findings/${encodeURIComponent(id)}/verification`), {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content}, body: JSON.stringify(Object.fromEntries(fd.entries()))});
    const body = await r.json().catch(() => ({}));
    if (!r.ok) { $("#verr").textContent = body.detail || ("提交失败（" + r.status + "）"); return; }
    $("#dialog").hidden = true;
    after(body);
  };
}
function bindVerify(reload) {
  app.querySelectorAll("button.verify").forEach(b => b.onclick = () => verifyForm(b.dataset.id, reload));
}

async function findings(params = {}) {
  const d = await getJSON("findings", params);
  remember(params);
  if (!d.month) { app.innerHTML = "<p>尚未进行比对。</p>"; return; }
  const ms = d.trend.months;
  options($("#month"), ms.slice().reverse(), ms.slice().reverse().map(ml), d.month);
  const rules = Object.keys(d.rules);
  const ruleSel = $("#rule"), townSel = $("#town"), stateSel = $("#state");
  if (ruleSel.options.length <= 1) {
    ruleSel.innerHTML += rules.map(r => `<option value="${r}">${r} ${esc(d.rules[r].name)}</option>`).join("");
    stateSel.innerHTML += Object.entries(d.states).map(([k, v]) => `<option value="${k}">${esc(v)}</option>`).join("");
  }
  if (params.rule) ruleSel.value = params.rule;
  if (params.state) stateSel.value = params.state;
  const towns = [...new Set([...d.towns.map(t => t.town), ...(params.town ? [params.town] : [])])].sort();
  const keep = params.town || townSel.value;
  townSel.innerHTML = `<option value="">全部</option>` + towns.map(t => `<option${t === keep ? " selected" : ""}>${esc(t)}</option>`).join("");
  const reload = () => findings({month: $("#month").value, rule: ruleSel.value, town: townSel.value, state: stateSel.value}).catch(fail);
  [$("#month"), ruleSel, townSel, stateSel].forEach(s => s.onchange = reload);
  const series = {};
  rules.forEach(r => { series[`${r} ${d.trend.names[r]}`] = d.trend.rules[r]; });
  let html = lineChart(ms.map(m => m.slice(2).replace("-", ".")), series, {title: "各规则问题数（按月）"});
  html += `<h2>${esc(d.label)}</h2><p class="muted">比对数据：建档立卡 ${esc(ml(d.basis.registry))}，低保 ${esc(ml(d.basis.dibao))}。${esc(d.basis.note)}</p>`;
  html += `<div class="scroll"><table id="rules"><thead><tr><th>规则</th><th class="num">本月</th><th class="num">新增</th><th class="num">持续</th><th class="num">已整改</th><th class="num">核实不属实</th><th class="num">上报领导</th></tr></thead><tbody>`;
  html += rules.map(r => { const x = d.rules[r]; return `<tr data-rule="${r}"><th>${r} ${esc(x.name)}</th><td class="num">${x.found}</td><td class="num">${x.new}</td><td class="num">${x.persisting}</td><td class="num">${x.resolved}</td><td class="num">${x.dismissed}</td><td class="num">${x.escalated}</td></tr>`; }).join("");
  html += `</tbody></table></div><h2>各镇（街）待处理</h2><div class="scroll"><table id="towns"><thead><tr><th>镇（街）</th><th class="num">未核查</th><th class="num">已核查</th><th class="num">上报领导</th></tr></thead><tbody>`;
  html += d.towns.map(t => `<tr><th>${esc(t.town)}</th><td class="num">${t.open}</td><td class="num">${t.verified}</td><td class="num">${t.escalated}</td></tr>`).join("");
  html += `</tbody></table></div><h2>问题清单（${d.findings.length} 条）</h2><div class="scroll"><table id="list" class="cards-sm"><thead><tr>${FINDING_HEAD}</tr></thead><tbody>`;
  html += d.findings.map(f => findingRow(f)).join("") + "</tbody></table></div>";
  app.innerHTML = html;
  bindVerify(reload);
}

// --- 资金项目 ----------------------------------------------------------------------------------
function yuan(v) { return v === null || v === undefined ? "—" : Math.round(v).toLocaleString("zh-CN") + " 元"; }
function fundRow(f) {
  return `<tr data-id="${esc(f.id)}"><td>${esc(f.rule)} ${esc(f.rule_name)}</td><td>${esc(f.town)}</td><td>${esc(f.project_no)}</td>
    <td>${esc(f.payment_no)}</td><td data-label="收款户/劳动力">${f.household_id ? `<a href="./household?q=${encodeURIComponent(f.household_id)}${county ? "&county=" + county : ""}">${esc(f.household_id)}</a>` : ""}${f.person_id ? "<br>" + esc(f.person_id) : ""}</td>
    <td class="wrap">${esc(f.detail)}</td><td class="num" data-label="连续月数">${f.persisted_months}</td><td>${tag(f.state, f.state_label)}${f.escalated ? " " + tag("esc", "已上报领导") : ""}</td>
    ${checkCell(f)}</tr>`;
}
async function fundsPage(params = {}) {
  const d = await getJSON("funds", {month: params.month});
  remember(params);
  if (!d.checked) { app.innerHTML = "<p>尚未进行资金监管核查。</p>"; return; }
  options($("#month"), d.months.slice().reverse(), d.months.slice().reverse().map(ml), d.month);
  const townSel = $("#town");
  const towns = [...new Set([...d.towns.map(t => t.town), ...d.findings.map(f => f.town).filter(Boolean)])].sort();
  townSel.innerHTML = `<option value="">全部</option>` + towns.map(t => `<option${t === params.town ? " selected" : ""}>${esc(t)}</option>`).join("");
  const reload = () => fundsPage({month: $("#month").value, town: townSel.value}).catch(fail);
  [$("#month"), townSel].forEach(s => s.onchange = reload);
  const inTown = x => !params.town || x.town === params.town;
  const projects = d.projects.filter(inTown), found = d.findings.filter(inTown);
  const open = found.filter(f => f.state !== "dismissed");
  let html = `<div class="cards"><div class="card"><div class="n">${projects.length}</div><div class="t">扶贫项目（项目库 ${esc(ml(d.basis.projects))}）</div></div>
    <div class="card"><div class="n">${pct(d.totals.planned ? d.totals.paid / d.totals.planned : null)}</div><div class="t">已拨付/计划投资（${yuan(d.totals.paid)}/${yuan(d.totals.planned)}）</div></div>
    <div class="card"><div class="n">${projects.filter(p => p.behind).length}</div><div class="t">进度滞后的项目</div></div>
    <div class="card"><div class="n">${open.length}</div><div class="t">资金问题（${esc(d.label)}）</div></div></div>`;
  if (d.basis.note) html += `<p class="muted">${esc(d.basis.note)}</p>`;
  if (d.towns.length) {
    html += `<h2>各镇（街）项目进度与拨付</h2><div class="scroll"><table id="stages"><thead><tr><th>镇（街）</th>${d.stages.map(s => `<th class="num">${esc(s)}</th>`).join("")}<th class="num">滞后</th><th class="num">计划投资</th><th class="num">已拨付</th><th class="num">拨付率</th></tr></thead><tbody>`;
    html += d.towns.filter(inTown).map(t => `<tr><th>${esc(t.town)}</th>${d.stages.map(s => `<td class="num">${t.stages[s]}</td>`).join("")}<td class="num">${t.behind}</td><td class="num">${yuan(t.planned)}</td><td class="num">${yuan(t.paid)}</td><td class="num">${pct(t.planned ? t.paid / t.planned : null)}</td></tr>`).join("");
    html += "</tbody></table></div>";
  }
  html += `<h2>资金问题（${open.length} 条）</h2>`;
  html += `<div class="scroll"><table id="rules"><thead><tr><th>规则</th><th class="num">本月</th></tr></thead><tbody>` + Object.entries(d.rules).map(([r, x]) => `<tr data-rule="${r}"><th>${r} ${esc(x.name)}</th><td class="num">${found.filter(f => f.rule === r && f.state !== "dismissed").length}</td></tr>`).join("") + "</tbody></table></div>";
  if (found.length) {
    html += `<div class="scroll"><table id="list" class="cards-sm"><thead><tr><th>规则</th><th>镇（街）</th><th>项目编号</th><th>拨付单号</th><th>收款户/劳动力</th><th>说明</th><th class="num">连续月数</th><th>状态</th><th>核查</th></tr></thead><tbody>`
      + found.map(fundRow).join("") + "</tbody></table></div>";
  }
  if (projects.length) {
    html += `<h2>项目清单（${projects.length} 个）</h2><div class="scroll"><table id="projects" class="cards-sm"><thead><tr><th>项目编号</th><th>项目名称</th><th>镇（街）/村</th><th>责任单位</th><th>进度</th><th class="num">计划投资</th><th class="num">已拨付</th><th class="num">拨付率</th></tr></thead><tbody>`
      + projects.map(p => `<tr data-project="${esc(p.project_no)}"><td>${esc(p.project_no)}</td><th class="wrap">${esc(p.name)}</th><td>${esc(p.town)}${esc(p.village || "")}</td><td>${esc(p.unit)}</td><td>${tag(p.behind ? "bad" : (p.stage === "已验收" ? "good" : "confirmed"), p.stage)}${p.behind ? `<br><span class="muted">${esc(p.behind)}</span>` : ""}</td><td class="num">${yuan(p.planned)}</td><td class="num">${yuan(p.paid)}</td><td class="num">${pct(p.paid_share)}</td></tr>`).join("")
      + "</tbody></table></div>";
  }
  app.innerHTML = html;
  bindVerify(reload);
}

// --- 核查 --------------------------------------------------------------------------------------
async function verifyPage() {
  const d = await getJSON("verify");
  if (!d.month) { app.innerHTML = "<p>尚未进行比对。</p>"; return; }
  if (!d.findings.length) { app.innerHTML = `<p>截至${esc(d.label)}的比对，本单位没有待核查的比对结果。</p>`; return; }
  app.innerHTML = `<h2>待核查 ${d.findings.length} 条（逾期的在前，其次按月份从早到晚）</h2><div class="scroll"><table id="list" class="cards-sm"><thead><tr>${FINDING_HEAD}</tr></thead><tbody>`
    + d.findings.map(f => findingRow(f, true)).join("") + "</tbody></table></div>";
  app.querySelector("thead tr").insertAdjacentHTML("afterbegin", "<th>月份</th>");
  bindVerify(() => verifyPage().catch(fail));
}

// --- 考核 --------------------------------------------------------------------------------------
function spark(values) {
  const vs = values.filter(v => v !== null && v !== undefined);
  if (vs.length < 2) return "";
  const max = Math.max(...vs), min = Math.min(...vs), W = 80, H = 20;
  const pts = values.map((v, i) => v === null ? null : `${i * W / (values.length - 1)},${H - 2 - (max === min ? 8 : (v - min) * (H - 4) / (max - min))}`).filter(Boolean).join(" ");
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><polyline fill="none" stroke="#1c7ed6" stroke-width="1.5" points="${pts}"/></svg>`;
}
async function scorecard(period) {
  const d = await getJSON("scorecard", {period});
  remember({period: period || ""});
  if (!d.period) { app.innerHTML = "<p>尚未进行考核。</p>"; return; }
  options($("#period"), d.periods.slice().reverse(), d.periods.slice().reverse().map(p => d.period_labels[p]), d.period);
  $("#period").onchange = () => scorecard($("#period").value).catch(fail);
  const only = $("#missed");
  only.onchange = () => scorecard(d.period).catch(fail);
  const rows = d.scores.filter(s => !only.checked || s.status === "未达标");
  const missed = d.scores.filter(s => s.status === "未达标").length;
  let html = `<div class="cards"><div class="card"><div class="n">${d.scores.length - missed}/${d.scores.length}</div><div class="t">${esc(d.label)}达标项</div></div>
    <div class="card"><div class="n">${new Set(d.actions.map(a => a.unit)).size}</div><div class="t">被通报或整改的单位</div></div></div>`;
  if (d.actions.length) {
    html += `<h2>处理措施</h2><div class="scroll"><table id="actions"><thead><tr><th>单位</th><th>措施</th><th>指标</th><th>期限</th><th>原因</th></tr></thead><tbody>`
      + d.actions.map(a => `<tr><th>${esc(a.unit_name)}</th><td>${tag(a.action === "约谈" ? "bad" : "confirmed", a.action)}</td><td class="wrap">${esc(a.indicators.join("、"))}</td><td>${esc(a.due || "")}</td><td class="wrap">${esc(a.reason)}</td></tr>`).join("")
      + "</tbody></table></div>";
  }
  html += `<h2>各单位指标</h2><div class="scroll"><table id="scores"><thead><tr><th>单位</th><th>指标</th><th class="num">完成值</th><th class="num">目标</th><th>差距</th><th>结果</th><th>各期</th></tr></thead><tbody>`;
  html += rows.map(s => {
    const hist = d.trend[`${s.unit}|${s.indicator}`] || {};
    return `<tr data-unit="${esc(s.unit)}" data-indicator="${esc(s.indicator)}"><th>${esc(s.unit_name)}</th><td class="wrap">${esc(s.indicator_name)}</td><td class="num">${esc(s.value_text)}</td><td class="num">${esc(s.target_text)}</td><td>${esc(s.gap)}</td><td>${tag(s.status === "达标" ? "good" : "bad", s.status)}${s.actions.length ? " " + s.actions.map(a => tag("confirmed", a)).join(" ") : ""}</td><td>${spark(d.periods.map(p => hist[p] ?? null))}</td></tr>`;
  }).join("");
  app.innerHTML = html + "</tbody></table></div>";
}

// --- 一户一档 ----------------------------------------------------------------------------------
async function household(q, village) {
  if (!q) { app.innerHTML = "<p class=\"muted\">输入 16 位户编号、姓名（可加村名）或脱敏身份证号（前 6 位、8 个 *、后 4 位）查询。</p>"; return; }
  const url = new URL(location.href);  // the search lives in the address: a reload or a shared link shows the same household
  url.searchParams.set("q", q);
  if (village) url.searchParams.set("village", village); else url.searchParams.delete("village");
  history.replaceState(null, "", url);
  const found = await getJSON("households", {q, village});
  if (found.results.length !== 1) {
    app.innerHTML = found.results.length ? `<p>找到 ${found.results.length} 户：</p><ul>${found.results.map(r => `<li><a href="#" data-h="${esc(r.household_id)}">${esc(r.household_id)}</a> ${esc(r.name)} ${esc(r.town)}${esc(r.village)}</li>`).join("")}</ul>` : "<p>没有找到您可以查看的建档立卡户。</p>";
    app.querySelectorAll("a[data-h]").forEach(a => a.onclick = ev => { ev.preventDefault(); $("#q").value = a.dataset.h; household(a.dataset.h).catch(fail); });
    return;
  }
  const d = await getJSON("households/" + encodeURIComponent(found.results[0].household_id));
  const s = d.summary;
  let html = `<h2>户编号 ${esc(d.household_id)} · ${esc(d.town)}${esc(d.village)}</h2>`;
  html += `<section class="summary" id="summary"><dl>
    <div><dt>在册月份</dt><dd>${esc(d.span)}（共 ${d.months.length} 个月）</dd></div>
    <div><dt>家庭人口</dt><dd>${s.members} 人</dd></div>
    <div><dt>脱贫状态</dt><dd>${esc(s.status || "—")}</dd></div>
    <div><dt>人均纯收入（${esc(s.month_label)}）</dt><dd>${esc(s.income || "—")}${s.threshold ? `，${esc(s.below_label)}当年脱贫标准 ${esc(s.threshold)}` : ""}</dd></div>
    <div><dt>未结比对问题</dt><dd>${s.open_findings ? `<a href="#findings">${s.open_findings} 条</a>` : "无"}</dd></div>
  </dl>
  <p class="muted">${esc(s.month_label)}各单位数据：</p><ul class="sources">${s.sources.map(x => `<li class="${x.this_month ? "good" : "none"}">${esc(x.source)} · ${esc(x.dataset)}：${x.this_month ? "有" : "无"}${!x.this_month && x.latest ? `（最近 ${esc(x.latest)}）` : ""}</li>`).join("")}</ul></section>`;
  html += `<h2>家庭成员</h2><div class="scroll"><table id="members"><thead><tr><th>姓名</th><th>与户主关系</th><th>身份证号</th><th>劳动能力</th><th>脱贫状态</th></tr></thead><tbody>`
    + d.members.map(m => `<tr><th>${esc(m.name)}</th><td>${esc(m.relation)}</td><td>${esc(m.id)}</td><td>${esc(m.labor)}</td><td>${esc(m.status)}</td></tr>`).join("") + "</tbody></table></div>";
  if (d.findings.length) {
    html += `<h2 id="findings">比对问题及核查</h2><div class="scroll"><table id="list" class="cards-sm"><thead><tr><th>月份</th>${FINDING_HEAD}</tr></thead><tbody>` + d.findings.map((f, i) => findingRow(f, true, !d.findings.slice(i + 1).some(g => g.id === f.id))).join("") + "</tbody></table></div>";
  }
  if (d.payments) {
    const p = d.payments;
    html += `<h2 id="payments">收到的扶贫资金（县财政局拨付明细）</h2>`;
    html += p.rows.length ? `<p>合计 ${esc(p.total)}：${p.years.map(y => `${y.year}年 ${esc(y.total)}`).join("，")}</p><div class="scroll"><table id="paid"><thead><tr><th>拨付日期</th><th>资金类型</th><th>项目</th><th>收款人</th><th>证件号码</th><th class="num">金额</th><th>拨付单号</th></tr></thead><tbody>`
      + p.rows.map(r => `<tr><td>${esc(r.paid_on)}</td><td>${esc(r.fund_type)}</td><td class="wrap">${esc(r.project || r.project_no)}</td><td>${esc(r.payee)}</td><td>${esc(r.payee_id)}</td><td class="num">${esc(r.amount)}</td><td>${esc(r.payment_no)}</td></tr>`).join("") + "</tbody></table></div>"
      : "<p class=\"muted\">县财政局的拨付明细中没有拨付给该户的资金。</p>";
  }
  html += "<h2>逐月记录（按来源，点开查看）</h2>";
  for (const t of d.timeline) {
    const keys = [...new Set(t.months.flatMap(m => m.rows.flatMap(p => p.facts.map(f => f[0]))))];
    html += `<details class="timeline" data-dataset="${esc(t.dataset)}"${t.dataset === "registry" ? " open" : ""}><summary>${esc(t.name)}（${esc(t.source)}）· ${esc(t.span)}</summary><div class="scroll"><table><thead><tr><th>月份</th><th>姓名</th>${keys.map(k => `<th>${esc(k)}</th>`).join("")}</tr></thead><tbody>`;
    for (const m of t.months.slice().reverse()) {
      for (const p of m.rows) {
        const facts = Object.fromEntries(p.facts);
        html += `<tr><td>${esc(m.label)}</td><th>${esc(p.name || "—")}</th>${keys.map(k => `<td>${esc(facts[k])}</td>`).join("")}</tr>`;
      }
    }
    html += "</tbody></table></div></details>";
  }
  app.innerHTML = html;
  bindVerify(() => household(q, village).catch(fail));
}

const start = {
  submissions: () => submissions(asked("year").year),
  // a town's clerk starts on their own town
  findings: () => { const p = asked("month", "rule", "town", "state"); if (!location.search.includes("town=") && document.body.dataset.town) p.town = document.body.dataset.town; return findings(p); },
  funds: () => { const p = asked("month", "town"); if (!location.search.includes("town=") && document.body.dataset.town) p.town = document.body.dataset.town; return fundsPage(p); },
  scorecard: () => scorecard(asked("period").period),
  verify: () => verifyPage(),
  household: () => {
    const params = new URLSearchParams(location.search);
    $("#q").value = params.get("q") || "";
    $("#village").value = params.get("village") || "";
    $("#search").onsubmit = ev => { ev.preventDefault(); household($("#q").value.trim(), $("#village").value.trim()).catch(fail); };
    return household(params.get("q"), params.get("village"));
  },
}[document.body.dataset.page];
start().catch(fail);
