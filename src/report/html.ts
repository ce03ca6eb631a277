// One self-contained HTML page: inline style and script allowed by their sha256 in a strict
// Content-Security-Policy, evidence embedded as JSON data (never as markup) and rendered with
// textContent, so a file named <img src=x onerror=...> stays text. Rows render a page at a time.
import crypto from 'node:crypto';
import type { Writable } from 'node:stream';
import { TOOL_VERSION } from '../version.js';
import type { ReportInput } from './registry.js';
import { FINDING_COLUMNS, findings } from './rows.js';
import { writeLines } from './stream.js';
import { caseSummary, type CaseSummary, type CopyCounts } from './summary.js';
import { displayText, quotedArg } from '../util/bytes.js';
import { FLAG_BADGES, type ProcessFlag } from '../store/processFlags.js';

const STYLE = `
:root{--fg:#1d2330;--muted:#5b6475;--line:#e3e6ec;--bg:#f7f8fa;--accent:#2456c9;--bad:#b42318;--badbg:#fdecea;--ok:#1a7f37;--okbg:#e8f5ec;--warnbg:#fff6e0}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
header{background:#151b28;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:20px;font-weight:600}
header p{margin:4px 0 0;color:#b9c1d3;font-size:13px}
main{padding:20px 28px;max-width:1600px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin-bottom:18px}
h2{font-size:15px;margin:0 0 12px;font-weight:600}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.cards+.cards{margin-top:12px}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:22px}
.card span{color:var(--muted);font-size:12px}
.card.bad b{color:var(--bad)}
.card.ok b{color:var(--ok)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dt{color:var(--muted)}
dd{margin:0;word-break:break-all}
.controls{display:flex;gap:10px;align-items:center;margin-bottom:10px;flex-wrap:wrap}
input,select,button{font:inherit;padding:5px 8px;border:1px solid var(--line);border-radius:5px;background:#fff}
button{cursor:pointer}
table{border-collapse:collapse;width:100%;font-size:13px}
th{position:sticky;top:0;background:#eef1f6;text-align:left;padding:6px 8px;cursor:pointer;white-space:nowrap;user-select:none;border-bottom:1px solid var(--line)}
th.sorted-asc::after{content:" \\25B2";font-size:10px}
th.sorted-desc::after{content:" \\25BC";font-size:10px}
td{padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
td.path{font-family:ui-monospace,"DejaVu Sans Mono",monospace;word-break:break-all;min-width:16ch;max-width:420px}
td.proc{min-width:14ch;max-width:380px;overflow-wrap:anywhere}
td.where{min-width:20ch;max-width:260px;overflow-wrap:anywhere}
td.copy{word-break:break-all;max-width:180px}
td.hash{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:11px;word-break:break-all;max-width:180px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.times{white-space:nowrap;font-size:12px;font-variant-numeric:tabular-nums}
tr.incomplete td{background:var(--warnbg)}
tr.unrecoverable td{background:var(--badbg)}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:11px;font-weight:600;background:#e7ecf7;color:#23407a}
.badge.exe{background:#fde2e1;color:#8a1c12}.badge.memfd{background:#efe2fd;color:#5a1f8a}.badge.tmpfile{background:#e0f4f1;color:#0d6157}
.badge.map{background:#fff0d6;color:#7a4b00}.badge.orphan{background:#fde2e1;color:#8a1c12}.badge.deleted{background:#eceff3;color:#444}
.badge.flag{background:var(--bad);color:#fff}
div.flag{margin-top:3px;font-size:12px;color:var(--bad)}
ul.flagged{margin:8px 0 0;font-size:12px;word-break:break-all}
.status-complete{color:var(--ok);font-weight:600}.status-incomplete,.status-unrecoverable{color:var(--bad);font-weight:600}
.muted{color:var(--muted)}
.note{color:var(--muted);font-size:12px;font-weight:400}
.pager{display:flex;gap:8px;align-items:center;margin-top:10px}
.empty{padding:30px;text-align:center;color:var(--muted)}
ul.warnings{margin:4px 0 8px;color:var(--muted);font-size:12px;word-break:break-all}
ul.images{margin:8px 0 0;font-size:12px;word-break:break-all}
ul.images .hash{font-family:ui-monospace,"DejaVu Sans Mono",monospace}
ul.images .bad{color:var(--bad)}
pre{white-space:pre-wrap;word-break:break-all;margin:0;font-size:12px}
`;

// The fragment (#sort=size-desc&q=...&kind=...) is typed or pasted by people: a value is what follows
// the first '=' (a filter may hold one), and a malformed escape such as "#q=100%" is taken as typed;
// decodeURIComponent would throw and leave the table empty. The fragment is the whole view: a key it
// leaves out is back to its default (Back to "#kind=fd" from "#q=x" shows every kind again).
// The CSP hash is computed from this text.
const SCRIPT = `
(function(){
"use strict";
var data=JSON.parse(document.getElementById("findings-data").textContent);
var cols=data.columns,rows=data.rows,linkBase=data.linkBase,badges=data.flagBadges;
var idx={};cols.forEach(function(c,i){idx[c]=i;});
var procs={};rows.forEach(function(r){if(r[idx.finding]!=="live")return;var k=r[idx.snapshot_id]+"/"+r[idx.pid];if(r[idx.exe]!==null||r[idx.cmdline]!==null)procs[k]=[r[idx.exe],r[idx.cmdline]];else if(procs[k]){r[idx.exe]=procs[k][0];r[idx.cmdline]=procs[k][1];}});
var same={};rows.forEach(function(r){if(r[idx.finding]!=="live"||r[idx.dev]===null||r[idx.inode]===null)return;var k=r[idx.snapshot_id]+"/"+r[idx.dev]+"/"+r[idx.inode];(same[k]=same[k]||[]).push(r[idx.pid]);});
function sameFile(r){if(r[idx.finding]!=="live"||r[idx.dev]===null||r[idx.inode]===null)return null;var pids=same[r[idx.snapshot_id]+"/"+r[idx.dev]+"/"+r[idx.inode]];if(!pids||pids.length<2)return null;var seen={},distinct=pids.filter(function(p){if(seen[p])return false;seen[p]=1;return true;}).sort(function(a,b){return a-b;});return "one file, "+pids.length+" items in snapshot "+r[idx.snapshot_id]+" (dev "+r[idx.dev]+", inode "+r[idx.inode]+"): pid "+distinct.slice(0,10).join(", ")+(distinct.length>10?" and "+(distinct.length-10)+" more":"");}
var shown=[["finding","where"],["pid","pid"],["comm","process"],["kind","kind"],["fd","fd"],["path","path"],["inode","inode"],["size","size"],["mtime","times (UTC)"],["source","seen by"],["status","recovery"],["sha256","sha256"],["output","copy"],["note","note"]];
var numeric={pid:1,fd:1,inode:1,size:1,mtime:1,atime:1,ctime:1,dtime:1,crtime:1,start_time:1,snapshot_id:1,offset_sectors:1,uid:1,gid:1,mode:1};
var times=[["mtime","modified"],["ctime","changed"],["atime","accessed"],["crtime","born"],["dtime","deleted"]];
function when(s){var d=new Date(s*1000);return isNaN(d.getTime())?String(s):d.toISOString().replace(".000Z","Z");}
var state={sort:null,desc:false,q:"",kind:"",page:0,per:200};
var table=document.getElementById("findings"),tbody=table.querySelector("tbody"),info=document.getElementById("pageinfo");
function el(tag,cls,text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!==undefined&&text!==null)e.textContent=String(text);return e;}
var head=table.querySelector("thead tr");
shown.forEach(function(s){var th=el("th",null,s[1]);th.setAttribute("data-col",s[0]);th.addEventListener("click",function(){if(state.sort===s[0])state.desc=!state.desc;else{state.sort=s[0];state.desc=false;}state.page=0;render();});head.appendChild(th);});
var kinds={};rows.forEach(function(r){kinds[r[idx.kind]]=1;});
var kindSelect=document.getElementById("kind");Object.keys(kinds).sort().forEach(function(k){var o=el("option",null,k);o.value=k;kindSelect.appendChild(o);});
function parseHash(){state.sort=null;state.desc=false;state.q="";state.kind="";state.page=0;var h=location.hash.replace(/^#/,"");h.split("&").forEach(function(p){var eq=p.indexOf("="),k=eq<0?p:p.slice(0,eq),v=eq<0?"":p.slice(eq+1);try{v=decodeURIComponent(v);}catch(e){}if(k==="sort"){var m=v.match(/^(.*)-(asc|desc)$/);if(m&&idx[m[1]]!==undefined){state.sort=m[1];state.desc=m[2]==="desc";}}else if(k==="q"){state.q=v;}else if(k==="kind"){state.kind=v;}});document.getElementById("q").value=state.q;kindSelect.value=state.kind;}
function exact(x,y){var p=BigInt(x),q=BigInt(y);return p<q?-1:p>q?1:0;}
function compare(a,b){var i=idx[state.sort],x=a[i],y=b[i];if(x===y)return 0;if(x===null)return 1;if(y===null)return -1;var r=numeric[state.sort]?exact(x,y):String(x).localeCompare(String(y));return state.desc?-r:r;}
function visible(){var q=state.q.toLowerCase();var out=rows.filter(function(r){if(state.kind&&r[idx.kind]!==state.kind)return false;if(!q)return true;for(var i=0;i<r.length;i++){if(r[i]!==null&&(typeof r[i]==="object"?JSON.stringify(r[i]):String(r[i])).toLowerCase().indexOf(q)>=0)return true;}return false;});if(state.sort)out.sort(compare);return out;}
function cell(r,c){var v=r[idx[c]],td;
 if(c==="finding"){td=el("td","where",r[idx.finding]==="live"?"snapshot "+r[idx.snapshot_id]+(r[idx.host]?" @ "+r[idx.host]:""):(r[idx.image]+" +"+r[idx.offset_sectors]));if(r[idx.finding]==="image"){td.appendChild(el("div","note",r[idx.image_id]===null?"no scan of the image as it was copied":"scan "+r[idx.image_id]+" of "+r[idx.image_scanned_at]+", image sha256 "+(r[idx.image_sha256]===null?"not computed":r[idx.image_sha256])));}return td;}
 if(c==="kind"){td=el("td");td.appendChild(el("span","badge "+String(v).replace(/[^a-z]/g,""),v));return td;}
 if(c==="comm"){td=el("td","proc",v);if(r[idx.cmdline]){td.appendChild(el("div","note",r[idx.cmdline]));}if(r[idx.exe]){td.appendChild(el("div","note","exe "+r[idx.exe]));}(r[idx.process_flags]||[]).forEach(function(f){var d=el("div","flag");var b=badges[f.flag]||f.flag;d.appendChild(el("span","badge flag",b));d.appendChild(document.createTextNode(" "+(f.why.indexOf(b+": ")===0?f.why.slice(b.length+2):f.why)));td.appendChild(d);});return td;}
 if(c==="path"){td=el("td","path",v);if(r[idx.held_by]){td.appendChild(el("div","note","held by "+r[idx.held_by]));}var one=sameFile(r);if(one){td.appendChild(el("div","note",one));}return td;}
 if(c==="status"){td=el("td","status-"+String(v).replace(/[^a-z]/g,""),v);if(r[idx.bytes]!==null&&r[idx.size]!==null&&String(r[idx.bytes])!==String(r[idx.size])){td.appendChild(el("div","note",r[idx.bytes]+" bytes copied, size "+r[idx.size]+(r[idx.finding]==="live"?" at the snapshot":" in the image")));}return td;}
 if(c==="sha256"){return el("td","hash",v);}
 if(c==="output"){td=el("td","copy");if(v){var a=el("a",null,v.split("/").pop());a.setAttribute("href",linkBase+v.split("/").map(encodeURIComponent).join("/"));td.appendChild(a);}return td;}
 if(c==="note"){return el("td","note",v);}
 if(c==="mtime"){td=el("td","times");times.forEach(function(t){var s=r[idx[t[0]]];if(s!==null&&s!==undefined)td.appendChild(el("div",null,t[1]+" "+when(s)));});return td;}
 return el("td",numeric[c]?"num":null,v);}
function render(){var list=visible();var pages=Math.max(1,Math.ceil(list.length/state.per));if(state.page>=pages)state.page=pages-1;
 tbody.textContent="";var start=state.page*state.per;var frag=document.createDocumentFragment();
 list.slice(start,start+state.per).forEach(function(r){var tr=el("tr",String(r[idx.status]).replace(/[^a-z]/g,""));tr.setAttribute("data-id",r[idx.key]);shown.forEach(function(s){tr.appendChild(cell(r,s[0]));});frag.appendChild(tr);});
 tbody.appendChild(frag);
 if(list.length===0){var tr=el("tr");var td=el("td","empty",rows.length===0?"No findings.":"No finding matches the filter.");td.colSpan=shown.length;tr.appendChild(td);tbody.appendChild(tr);}
 info.textContent=list.length===0?"0 findings":("findings "+(start+1)+"\\u2013"+Math.min(start+state.per,list.length)+" of "+list.length+(list.length!==rows.length?" (filtered from "+rows.length+")":""));
 table.setAttribute("data-visible",String(list.length));
 Array.prototype.forEach.call(head.children,function(th){th.className=th.getAttribute("data-col")===state.sort?(state.desc?"sorted-desc":"sorted-asc"):"";});}
document.getElementById("q").addEventListener("input",function(e){state.q=e.target.value;state.page=0;render();});
kindSelect.addEventListener("change",function(e){state.kind=e.target.value;state.page=0;render();});
document.getElementById("prev").addEventListener("click",function(){if(state.page>0){state.page--;render();}});
document.getElementById("next").addEventListener("click",function(){state.page++;render();});
window.addEventListener("hashchange",function(){parseHash();render();});
parseHash();render();
})();
`;

const sha256Base64 = (text: string): string => crypto.createHash('sha256').update(text, 'utf8').digest('base64');
const SCRIPT_HASH = sha256Base64(SCRIPT);

const bigintAsText = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);
const STYLE_HASH = sha256Base64(STYLE);

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * JSON inside <script type="application/json">: no "<", no line separators, so "</script>" cannot end
 * it. A number past 2^53 (a bigint: an inode of overlayfs or CIFS) goes in as its digits in a string:
 * the page's JSON.parse would round a number, and the page shows text anyway.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value, bigintAsText).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function card(value: number, label: string, tone = ''): string {
  return `<div class="card ${tone}"><b>${value}</b><span>${escapeHtml(label)}</span></div>`;
}

function summaryHtml(summary: CaseSummary, generatedAt: string): string {
  const kinds = Object.entries(summary.itemsByKind).map(([kind, count]) => card(count, `${kind}`)).join('');
  // Each snapshot's warnings under it (files the kernel keeps with no item, processes not read): the first 50.
  const warningsHtml = (warnings: readonly string[]): string => warnings.length === 0 ? '' :
    `<ul class="warnings">${warnings.slice(0, 50).map((warning) => `<li>${escapeHtml(warning)}</li>`).join('')}${warnings.length > 50 ? `<li>and ${warnings.length - 50} more (snapshots.warnings, the JSON report)</li>` : ''}</ul>`;
  const snapshots = summary.snapshots
    .map((snapshot) => `<li>#${snapshot.id} ${escapeHtml(snapshot.source === 'lsof' ? `lsof import ${snapshot.import_file ?? ''}` : 'live /proc walk')} on ${escapeHtml(snapshot.host ?? '?')}, ${escapeHtml(snapshot.started_at)} \u2013 ${escapeHtml(snapshot.finished_at ?? '')}${warningsHtml(snapshot.warnings)}</li>`)
    .join('');
  const warned = summary.snapshots.reduce((sum, snapshot) => sum + snapshot.warnings.length, 0);
  const others = summary.otherCopies.complete + summary.otherCopies.incomplete + summary.otherCopies.notCopied;
  const nothing = summary.items === 0 && summary.images === 0 && others === 0;
  // A snapshot that found nothing is a finding too: said as such, not as a case not yet examined.
  const empty = !nothing ? '' : summary.snapshots.length > 0
    ? `<p class="empty">No deleted-but-open file: ${summary.snapshots.length === 1 ? `snapshot #${summary.snapshots[0]?.id ?? ''} found` : `the ${summary.snapshots.length} snapshots found`} none, and no image was scanned${warned > 0 ? `; the snapshots' ${warned} warning${warned === 1 ? '' : 's'} (under Snapshots) say what else they saw: files the kernel keeps with no process, processes not read` : ''}.</p>`
    : `<p class="empty">This case holds no findings yet: run <code>unlinked snapshot</code> or <code>unlinked image scan</code>.</p>`;
  return `
<section><h2>Summary</h2>${empty}
<dl>
<dt>Host</dt><dd>${escapeHtml(summary.hosts.join(', ') || '\u2014')}</dd>
<dt>Kernel</dt><dd>${escapeHtml(summary.kernels.join(', ') || '\u2014')}</dd>
<dt>Snapshots</dt><dd>${snapshots === '' ? '\u2014' : `<ul>${snapshots}</ul>`}</dd>
<dt>Report written</dt><dd>${escapeHtml(generatedAt)} by unlinked ${escapeHtml(TOOL_VERSION)}</dd>
</dl></section>
<section><h2>Deleted but open</h2><div class="cards">
${card(summary.items, 'items in all snapshots')}${kinds}
${card(summary.recoveredComplete, 'recovered complete', 'ok')}${card(summary.recoveredIncomplete, 'recovered incomplete', summary.recoveredIncomplete > 0 ? 'bad' : '')}
${card(summary.notRecovered, 'not copied')}
</div></section>
${flaggedHtml(summary)}
<section><h2>lsof and /proc</h2><div class="cards">
${card(summary.both, 'seen by both')}${card(summary.procOnly, 'seen by /proc only', summary.procOnly > 0 ? 'bad' : '')}${card(summary.lsofOnly, 'seen by lsof only', summary.lsofOnly > 0 ? 'bad' : '')}
</div></section>
<section><h2>Disk images</h2><div class="cards">
${card(summary.images, 'images scanned')}${card(summary.imageInodes.orphan, 'orphan inodes')}${card(summary.imageInodes.deleted, 'deleted inodes')}
${card(summary.correlated, 'held open by a live process')}
</div><div class="cards">
${card(summary.imageInodes.recoverable, 'recoverable inodes')}${copyCards(summary.recoverableCopies, 'recoverable: ')}
</div>${others === 0 ? '' : `<div class="cards">${copyCards(summary.otherCopies, 'other inodes (by number, not recoverable): ')}</div>`}${imagesHtml(summary.imageList)}</section>`;
}

/** The processes flagged (processFlags.ts): a card per flag, then each process with its badges and why (the first 50). */
function flaggedHtml(summary: CaseSummary): string {
  const flagged = summary.flaggedProcesses;
  const counted = (flag: keyof typeof FLAG_BADGES): number => flagged.filter((process) => process.flags.some((found) => found.flag === flag)).length;
  const cards = (Object.keys(FLAG_BADGES) as Array<keyof typeof FLAG_BADGES>).map((flag) => card(counted(flag), `processes: ${FLAG_BADGES[flag]}`, counted(flag) > 0 ? 'bad' : '')).join('');
  const line = (process: CaseSummary['flaggedProcesses'][number]): string => `<li>snapshot ${process.snapshot_id} pid ${process.pid} (${escapeHtml(process.comm ?? '?')})` +
    process.flags.map(({ flag, why }) => `<div class="flag"><span class="badge flag">${escapeHtml(FLAG_BADGES[flag])}</span> ${escapeHtml(withoutBadge(flag, why))}</div>`).join('') + '</li>';
  const list = flagged.length === 0 ? '' : `<ul class="flagged">${flagged.slice(0, 50).map(line).join('')}${flagged.length > 50 ? `<li>and ${flagged.length - 50} more (the findings' process_flags)</li>` : ''}</ul>`;
  return `<section><h2>Processes holding them</h2><div class="cards">${cards}</div>${list}</section>`;
}

/** A flag's why after its badge: the badge's words are not said twice (the page's script does the same). */
function withoutBadge(flag: ProcessFlag['flag'], why: string): string {
  const lead = `${FLAG_BADGES[flag]}: `;
  return why.startsWith(lead) ? why.slice(lead.length) : why;
}

/** A set of copies, each counted once: complete, incomplete (a prefix kept), not copied (no file: none yet, or refused). */
function copyCards(counts: CopyCounts, lead: string): string {
  return card(counts.complete, `${lead}extracted complete`, 'ok') + card(counts.incomplete, `${lead}extracted incomplete`, counts.incomplete > 0 ? 'bad' : '') +
    card(counts.notCopied, `${lead}not copied`, counts.notCopied > 0 ? 'bad' : '');
}

/** Each scan: the image or device read, its size and sha256 (and the second read's, --verify), when, and its file systems' warnings (the first 50). */
function imagesHtml(images: CaseSummary['imageList']): string {
  if (images.length === 0) return '';
  const line = (image: CaseSummary['imageList'][number]): string => {
    const after = image.sha256_after === null ? '' : image.sha256_after === image.sha256 ? ', read again after the scan: the same' : `, read again after the scan: <span class="bad">${escapeHtml(image.sha256_after)}</span>`;
    return `<li><span class="path">${escapeHtml(image.path)}</span>${image.is_device === 1 ? ' (device)' : ''}, ${image.size ?? '?'} bytes, scanned ${escapeHtml(image.scanned_at)}, ` +
      `sha256 <span class="hash">${escapeHtml(image.sha256 ?? 'not computed')}</span>${after}` +
      `${image.warnings.length === 0 ? '' : `<ul class="warnings">${image.warnings.map((warning) => `<li>${escapeHtml(warning)}</li>`).join('')}</ul>`}</li>`;
  };
  return `<ul class="images">${images.slice(0, 50).map(line).join('')}${images.length > 50 ? `<li>and ${images.length - 50} more (the JSON report's images)</li>` : ''}</ul>`;
}

/**
 * The requests a command read from its file (debugfs -f): their count, the first and the last (all
 * of them are in the JSON report and commands.requests). Comment lines (a batch's markers) are not requests.
 */
function requestsHtml(requests: CaseSummary['commands'][number]['requests']): string {
  if (requests === null) return '';
  const first = requests.head.split('\n').find((line) => line !== '' && !line.startsWith('#')) ?? '';
  const last = requests.tail.split('\n').reverse().find((line) => line !== '' && !line.startsWith('#')) ?? '';
  const ends = requests.count <= 1 ? first : `${first}${requests.count > 2 ? ' \u2026 ' : ', '}${last}`;
  return `<div class="note">${requests.count} request${requests.count === 1 ? '' : 's'} read from its file: ${escapeHtml(displayText(ends))} (all in the JSON report, commands.requests)</div>`;
}

function provenanceHtml(summary: CaseSummary): string {
  if (summary.commands.length === 0) return `<section><h2>Commands run</h2><p class="muted">No external command was run for this case.</p></section>`;
  const rows = summary.commands
    .map((command) => {
      // Arguments (image paths), versions and errors are text from outside: in the display form.
      // Each argument in the display form, quoted when it holds a space or a quote (or is empty): where one ends stays visible.
      const argv = (JSON.parse(command.argv) as string[]).map((arg) => quotedArg(displayText(arg))).join(' ');
      return `<tr><td>${escapeHtml(command.started_at)}</td><td>${escapeHtml(command.finished_at ?? '')}</td><td>${escapeHtml(command.program)}</td><td>${escapeHtml(command.version === null ? 'unknown' : displayText(command.version))}</td><td class="path">${escapeHtml(argv)}${requestsHtml(command.requests)}</td><td class="num">${command.exit_code ?? ''}</td><td class="note">${escapeHtml(displayText(command.error ?? ''))}</td></tr>`;
    })
    .join('');
  return `<section><h2>Commands run (provenance)</h2><table><thead><tr><th>started</th><th>finished</th><th>program</th><th>version</th><th>arguments</th><th>exit</th><th>error</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

export async function writeHtml(input: ReportInput, out: Writable): Promise<void> {
  const summary = caseSummary(input.db);
  const generatedAt = new Date().toISOString();
  const csp = `default-src 'none'; script-src 'sha256-${SCRIPT_HASH}'; style-src 'sha256-${STYLE_HASH}'; img-src data:; base-uri 'none'; form-action 'none'`;
  const head = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>unlinked report \u2014 ${escapeHtml(summary.hosts.join(', ') || 'case')}</title>
<style>${STYLE}</style></head>
<body><header><h1>Deleted-but-open files \u2014 ${escapeHtml(summary.hosts.join(', ') || 'case')}</h1><p>unlinked ${escapeHtml(TOOL_VERSION)} \u00b7 ${escapeHtml(displayText(input.caseDir))}</p>${input.stage === undefined ? '' : `<p class="stage"><strong>${escapeHtml(input.stage)}</strong></p>`}</header><main>
${summaryHtml(summary, generatedAt)}
<section><h2>Findings</h2>
<div class="controls"><input id="q" type="search" placeholder="filter: path, process, hash\u2026" size="40"><select id="kind"><option value="">every kind</option></select><span id="pageinfo" class="muted"></span></div>
<table id="findings"><thead><tr></tr></thead><tbody></tbody></table>
<div class="pager"><button id="prev" type="button">\u2190 previous</button><button id="next" type="button">next \u2192</button></div>
</section>
${provenanceHtml(summary)}
</main>
<script type="application/json" id="findings-data">{"columns":${jsonForScript(FINDING_COLUMNS)},"linkBase":${jsonForScript(input.linkBase)},"flagBadges":${jsonForScript(FLAG_BADGES)},"rows":[`;
  await writeLines(out, (function* () {
    yield head;
    let first = true;
    // A process's exe and command line go with its first row only: the page gives them to its other rows.
    let lastProcess = '';
    for (const finding of findings(input.db, input.caseDir)) {
      const process = finding.finding === 'live' ? `${finding.snapshot_id ?? ''}/${finding.pid ?? ''}` : '';
      const row = process !== '' && process === lastProcess ? { ...finding, exe: null, cmdline: null } : finding;
      lastProcess = process;
      yield `${first ? '' : ','}\n${jsonForScript(FINDING_COLUMNS.map((column) => row[column]))}`;
      first = false;
    }
    yield `]}</script>\n<script>${SCRIPT}</script>\n</body></html>\n`;
  })());
}
