<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AddModelDialog</name>
    <message>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <source>Add a model file</source>
        <translation>添加模型文件</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Checking {name}…</source>
        <translation>正在检查 {name}…</translation>
    </message>
    <message>
        <source>Choose a .gguf model file on this computer. It joins your models and is still there the next time Quantdesk starts.</source>
        <translation>选择这台电脑上的 .gguf 模型文件。它会加入你的模型列表，下次启动 Quantdesk 时依然在。</translation>
    </message>
    <message>
        <source>Choose a model file</source>
        <translation>选择模型文件</translation>
    </message>
    <message>
        <source>Copy it into the models folder</source>
        <translation>复制到模型文件夹</translation>
    </message>
    <message>
        <source>Copying {name} into the models folder…</source>
        <translation>正在将 {name} 复制到模型文件夹…</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf)</source>
        <translation>GGUF 模型 (*.gguf)</translation>
    </message>
    <message>
        <source>Model file</source>
        <translation>模型文件</translation>
    </message>
    <message>
        <source>Path to a .gguf file</source>
        <translation>.gguf 文件的路径</translation>
    </message>
    <message>
        <source>Use it where it is (the file stays in its folder)</source>
        <translation>在原位置使用（文件保留在原文件夹中）</translation>
    </message>
</context>
<context>
    <name>ApiServerSection</name>
    <message>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message numerus="yes">
        <source>%n request(s) in the queue</source>
        <translation>
            <numerusform>队列中有 %n 个请求</numerusform>
        </translation>
    </message>
    <message>
        <source>A password the other programs must send; leave it empty for none.</source>
        <translation>其他程序必须发送的密码；留空则不需要。</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>Any free port</source>
        <translation>任意空闲端口</translation>
    </message>
    <message>
        <source>Client left</source>
        <translation>客户端已断开</translation>
    </message>
    <message>
        <source>Copy URL</source>
        <translation>复制 URL</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Failed ({status})</source>
        <translation>失败（{status}）</translation>
    </message>
    <message>
        <source>Generating</source>
        <translation>正在生成</translation>
    </message>
    <message>
        <source>Local API server</source>
        <translation>本地 API 服务器</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>None (optional)</source>
        <translation>无（可选）</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>已关闭</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>端口</translation>
    </message>
    <message>
        <source>Programs made for OpenAI&apos;s or Anthropic&apos;s online models (code editors, agents, scripts) can use the model loaded here instead: give them this URL as their server address (“base URL”), and the key if you set one. Anthropic&apos;s tools want it without the /v1 at the end. Only programs on this computer can reach it. Requests share the model with your chats and take turns; they are saved in your chats only if you choose.</source>
        <translation>为 OpenAI 或 Anthropic 在线模型编写的程序（代码编辑器、智能体、脚本）可以改用这里加载的模型：把这个 URL 作为它们的服务器地址（“base URL”）填入，如果设置了密钥也一并填入。Anthropic 的工具需要去掉末尾的 /v1。只有这台电脑上的程序能访问它。请求与你的聊天共用模型并轮流进行；只有在你选择时才会保存到你的聊天中。</translation>
    </message>
    <message>
        <source>Refused ({status})</source>
        <translation>已拒绝（{status}）</translation>
    </message>
    <message>
        <source>Request</source>
        <translation>请求</translation>
    </message>
    <message>
        <source>Save the requests in my chats</source>
        <translation>将请求保存到我的聊天记录中</translation>
    </message>
    <message>
        <source>Serve the models to other programs on this computer</source>
        <translation>向本机上的其他程序提供模型</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>token 数</translation>
    </message>
    <message>
        <source>Tokens/s</source>
        <translation>token/秒</translation>
    </message>
    <message>
        <source>URL</source>
        <translation>URL</translation>
    </message>
    <message>
        <source>Waiting for the model</source>
        <translation>正在等待模型</translation>
    </message>
</context>
<context>
    <name>Catalog</name>
    <message>
        <source>always reasons</source>
        <translation>始终推理</translation>
    </message>
    <message>
        <source>base model</source>
        <translation>基础模型</translation>
    </message>
    <message>
        <source>chat</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>no reasoning mode</source>
        <translation>无推理模式</translation>
    </message>
    <message>
        <source>reasoning on/off</source>
        <translation>推理可开关</translation>
    </message>
    <message>
        <source>{n:,} downloads</source>
        <translation>{n:,} 次下载</translation>
    </message>
</context>
<context>
    <name>ChatPage</name>
    <message>
        <source> (stopped)</source>
        <translation>（已停止）</translation>
    </message>
    <message>
        <source> · the context is full: start a new chat or raise the context length</source>
        <translation> · 上下文已满：请新建对话或调大上下文长度</translation>
    </message>
    <message>
        <source> · the context is nearly full</source>
        <translation> · 上下文快满了</translation>
    </message>
    <message>
        <source> · the reply ran out of tokens while thinking: raise Max reply tokens or set a thinking budget in Reply settings</source>
        <translation> · 回复在思考阶段就用完了 token：请调大“回复最大 token 数”，或在“回复设置”中设定思考预算</translation>
    </message>
    <message>
        <source>A reply is being written; Stop ends it.</source>
        <translation>正在生成回复；点击“停止”可结束。</translation>
    </message>
    <message>
        <source>Couldn&apos;t save the reply, so it stopped here: {reason}</source>
        <translation>无法保存回复，因此在此停止：{reason}</translation>
    </message>
    <message>
        <source>Editing a message: Send replaces it and every message after it. Esc cancels.</source>
        <translation>正在编辑消息：发送后将替换这条消息及其后的所有消息。按 Esc 取消。</translation>
    </message>
    <message>
        <source>Generating</source>
        <translation>正在生成</translation>
    </message>
    <message>
        <source>Leave out the oldest messages</source>
        <translation>略去最早的消息</translation>
    </message>
    <message>
        <source>Load a model first: choose one in the Model list above.</source>
        <translation>请先加载模型：在上方的模型列表中选择一个。</translation>
    </message>
    <message>
        <source>Measure how fast this model reads and writes on this machine (about ten seconds). Speeds shown for other files are then based on it.</source>
        <translation>测量这个模型在这台电脑上读取和生成的速度（约十秒）。之后为其他文件显示的速度将以此为依据。</translation>
    </message>
    <message>
        <source>Measure speed</source>
        <translation>测量速度</translation>
    </message>
    <message>
        <source>Measured on this machine: writes {writing:.1f}&#xa0;tokens/s, reads a prompt at {reading:.0f}&#xa0;tokens/s, first token after {first:.1f}&#xa0;s.</source>
        <translation>在这台电脑上测得：生成 {writing:.1f}&#xa0;tokens/s，读取提示词 {reading:.0f}&#xa0;tokens/s，首个 token 用时 {first:.1f}&#xa0;秒。</translation>
    </message>
    <message>
        <source>Measuring speed…</source>
        <translation>正在测量速度…</translation>
    </message>
    <message>
        <source>Measuring speed… {percent}&#xa0;%</source>
        <translation>正在测量速度… {percent}&#xa0;%</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>消息</translation>
    </message>
    <message>
        <source>Reading the conversation…</source>
        <translation>正在读取对话…</translation>
    </message>
    <message>
        <source>Reasoning effort</source>
        <translation>推理力度</translation>
    </message>
    <message>
        <source>Reply settings</source>
        <translation>回复设置</translation>
    </message>
    <message>
        <source>Search the chats</source>
        <translation>搜索对话</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Send message</source>
        <translation>发送消息</translation>
    </message>
    <message>
        <source>Send the message</source>
        <translation>发送这条消息</translation>
    </message>
    <message>
        <source>Send the message (Ctrl+Enter).</source>
        <translation>发送消息（Ctrl+Enter）。</translation>
    </message>
    <message>
        <source>Start a new chat</source>
        <translation>新建对话</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the reply</source>
        <translation>停止回复</translation>
    </message>
    <message>
        <source>Stop the reply, or cancel an edit</source>
        <translation>停止回复，或取消编辑</translation>
    </message>
    <message>
        <source>System prompt, sampling and context length of this chat</source>
        <translation>本对话的系统提示词、采样参数和上下文长度</translation>
    </message>
    <message>
        <source>The conversation is too long</source>
        <translation>对话太长了</translation>
    </message>
    <message>
        <source>The speed is being measured; Stop ends it.</source>
        <translation>正在测量速度；点“停止”可结束。</translation>
    </message>
    <message>
        <source>Thinking</source>
        <translation>思考中</translation>
    </message>
    <message>
        <source>Thinking: high</source>
        <translation>思考：高</translation>
    </message>
    <message>
        <source>Thinking: low</source>
        <translation>思考：低</translation>
    </message>
    <message>
        <source>Thinking: medium</source>
        <translation>思考：中</translation>
    </message>
    <message>
        <source>Type a message (Ctrl+Enter to send)</source>
        <translation>输入消息（Ctrl+Enter 发送）</translation>
    </message>
    <message>
        <source>Type a message first.</source>
        <translation>请先输入消息。</translation>
    </message>
    <message>
        <source>{phase}… {tps:.1f}&#xa0;tokens/s · context {used:,} of {ctx:,}</source>
        <translation>{phase}… {tps:.1f} token/秒 · 上下文 {used:,} / {ctx:,}</translation>
    </message>
    <message>
        <source>{tps:.1f}&#xa0;tokens/s · {n}&#xa0;tokens · context {used:,} of {ctx:,}</source>
        <translation>{tps:.1f} token/秒 · {n} 个 token · 上下文 {used:,} / {ctx:,}</translation>
    </message>
</context>
<context>
    <name>ChatSettingsPanel</name>
    <message>
        <source>&lt;b&gt;Reply settings&lt;/b&gt;</source>
        <translation>&lt;b&gt;回复设置&lt;/b&gt;</translation>
    </message>
    <message>
        <source>A base model reads this as the start of the text it continues.</source>
        <translation>基础模型会把这段内容当作要续写的文本开头。</translation>
    </message>
    <message>
        <source>Context length (tokens)</source>
        <translation>上下文长度（token）</translation>
    </message>
    <message>
        <source>How adventurous the wording is. Low values give focused, predictable replies; higher ones give more varied, creative ones. At 0 the model always picks its most likely next word.</source>
        <translation>控制措辞的随机程度。较低的值让回复更集中、更可预测；较高的值让回复更多样、更有创意。为 0 时，模型总是选择最可能的下一个词。</translation>
    </message>
    <message>
        <source>How much of the conversation the model keeps in view, in tokens. More needs more memory; changing it loads the model again.</source>
        <translation>模型能“看到”的对话长度，单位为 token。越大占用内存越多；修改后会重新加载模型。</translation>
    </message>
    <message>
        <source>Leaves out words far less likely than the best one: a word needs at least this share of the best word&apos;s chance. Higher values keep replies focused; 0 turns this off.</source>
        <translation>排除可能性远低于最佳候选的词：一个词的概率至少要达到最佳候选的这一比例。值越高回复越集中；为 0 时关闭。</translation>
    </message>
    <message>
        <source>Load a model to set a thinking budget.</source>
        <translation>加载模型后才能设置思考预算。</translation>
    </message>
    <message>
        <source>Makes the model less likely to repeat words it has just used. 1 means no penalty; a little more (such as 1.1) helps against a reply that goes round in circles.</source>
        <translation>降低模型重复刚用过的词的倾向。1 表示不惩罚；稍大一些（如 1.1）可避免回复兜圈子。</translation>
    </message>
    <message>
        <source>Max reply tokens</source>
        <translation>回复最大 token 数</translation>
    </message>
    <message>
        <source>Min P</source>
        <translation>Min P</translation>
    </message>
    <message>
        <source>No thinking toggle: this model&apos;s chat template has no thinking switch Quantdesk knows, and it isn&apos;t a known reasoning model.</source>
        <translation>没有思考开关：此模型的聊天模板中没有 Quantdesk 认识的思考开关，它也不是已知的推理模型。</translation>
    </message>
    <message>
        <source>Optional instructions for every reply</source>
        <translation>可选：对每次回复的指示</translation>
    </message>
    <message>
        <source>Repeat penalty</source>
        <translation>重复惩罚</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <source>Temperature (0 = greedy)</source>
        <translation>温度（0 = 贪婪解码）</translation>
    </message>
    <message>
        <source>The longest a reply may get, in tokens (a token is about three quarters of a word). The reply stops there; the model&apos;s thinking counts too.</source>
        <translation>回复的最大长度，单位为 token（一个汉字约 1–2 个 token）。达到上限时回复停止；模型的思考内容也计算在内。</translation>
    </message>
    <message>
        <source>The model only chooses among its most likely next words that together make up this share of the chances. Lower values keep replies on safer ground; 1 leaves every word in.</source>
        <translation>模型只在累计概率达到这一比例的最可能候选词中选择。值越低回复越稳妥；为 1 时保留所有词。</translation>
    </message>
    <message>
        <source>The model only chooses among this many of its most likely next words. Fewer make replies more predictable; 0 turns this limit off.</source>
        <translation>模型只在这么多个最可能的候选词中选择。越少回复越可预测；为 0 时取消此限制。</translation>
    </message>
    <message>
        <source>The most tokens the model may spend thinking before it answers. With no limit it thinks as long as it needs, up to Max reply tokens.</source>
        <translation>模型回答前最多可用于思考的 token 数。不限时，它会按需思考，直到达到“回复最大 token 数”。</translation>
    </message>
    <message>
        <source>Thinking budget (tokens)</source>
        <translation>思考预算（token）</translation>
    </message>
    <message>
        <source>Thinking: {family}</source>
        <translation>思考：{family}</translation>
    </message>
    <message>
        <source>This model answers without thinking first, so there is no thinking to limit.</source>
        <translation>这个模型不经思考直接回答，因此没有可限制的思考。</translation>
    </message>
    <message>
        <source>This model&apos;s chat template has no place for a system prompt; your instructions are sent at the start of your first message.</source>
        <translation>这个模型的对话模板没有放系统提示词的位置；你的指令会放在你第一条消息的开头发送。</translation>
    </message>
    <message>
        <source>This model&apos;s thinking switch is /think or /no_think at the end of the system prompt; Quantdesk adds it after your instructions.</source>
        <translation>此模型的思考开关是系统提示词末尾的 /think 或 /no_think；Quantdesk 会把它加在你的指令之后。</translation>
    </message>
    <message>
        <source>This model&apos;s thinking switch is its system prompt; your instructions are sent at the start of your first message, as its model card asks.</source>
        <translation>这个模型通过系统提示词开关思考模式；按照其模型卡的要求，你的指示会放在第一条消息的开头发送。</translation>
    </message>
    <message>
        <source>Top K</source>
        <translation>Top K</translation>
    </message>
    <message>
        <source>Top P</source>
        <translation>Top P</translation>
    </message>
    <message>
        <source>Use the model&apos;s defaults</source>
        <translation>使用模型默认值</translation>
    </message>
    <message>
        <source>no limit</source>
        <translation>不限</translation>
    </message>
</context>
<context>
    <name>CodeBlock</name>
    <message>
        <source>Code</source>
        <translation>代码</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy code</source>
        <translation>复制代码</translation>
    </message>
    <message>
        <source>Copy this code</source>
        <translation>复制这段代码</translation>
    </message>
    <message>
        <source>code</source>
        <translation>代码</translation>
    </message>
</context>
<context>
    <name>ConversationList</name>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Delete chat</source>
        <translation>删除对话</translation>
    </message>
    <message>
        <source>Delete “{title}” and all its messages? This can&apos;t be undone.</source>
        <translation>要删除“{title}”及其全部消息吗？此操作无法撤销。</translation>
    </message>
    <message>
        <source>Model: {model}</source>
        <translation>模型：{model}</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新建对话</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <source>Search chats</source>
        <translation>搜索对话</translation>
    </message>
    <message>
        <source>Start a new conversation (Ctrl+N)</source>
        <translation>开始新对话（Ctrl+N）</translation>
    </message>
</context>
<context>
    <name>DiscoverPage</name>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
</context>
<context>
    <name>DownloadManager</name>
    <message>
        <source>This release has no GPU engine for this computer&apos;s graphics card and system.</source>
        <translation>此版本没有适用于这台电脑的显卡和系统的 GPU 引擎。</translation>
    </message>
</context>
<context>
    <name>DownloadPage</name>
    <message>
        <source>Cancelled. Go back to choose another file.</source>
        <translation>已取消。返回上一步可选择其他文件。</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Downloaded and verified.</source>
        <translation>已下载并校验。</translation>
    </message>
    <message>
        <source>Downloading</source>
        <translation>下载中</translation>
    </message>
    <message>
        <source>Downloading {name}…</source>
        <translation>正在下载 {name}…</translation>
    </message>
    <message>
        <source>Go back to try again or choose another file.</source>
        <translation>返回上一步重试，或选择其他文件。</translation>
    </message>
    <message>
        <source>The file is checked against Hugging Face&apos;s checksum when it arrives. You can close this window: the download goes on in Downloads.</source>
        <translation>文件下载完成后会与 Hugging Face 提供的校验和比对。你可以关闭此窗口，下载会在“下载”页面继续进行。</translation>
    </message>
</context>
<context>
    <name>DownloadRow</name>
    <message>
        <source>Cancel download</source>
        <translation>取消下载</translation>
    </message>
    <message>
        <source>Cancelled; the partial file was deleted.</source>
        <translation>已取消，未下载完的文件已删除。</translation>
    </message>
    <message>
        <source>Chat with it</source>
        <translation>开始对话</translation>
    </message>
    <message>
        <source>Done · {size} · {verified}</source>
        <translation>完成 · {size} · {verified}</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Remove from list</source>
        <translation>从列表中移除</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <source>Stopped; it resumes from here next time.</source>
        <translation>已暂停，下次将从这里继续。</translation>
    </message>
    <message>
        <source>The downloaded file stays in your models.</source>
        <translation>已下载的文件会保留在你的模型中。</translation>
    </message>
    <message>
        <source>size checked</source>
        <translation>大小已核对</translation>
    </message>
    <message>
        <source>verified</source>
        <translation>已校验</translation>
    </message>
</context>
<context>
    <name>DownloadsPanel</name>
    <message>
        <source>Clear finished</source>
        <translation>清除已完成</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Find a model in Discover</source>
        <translation>在“发现”中查找模型</translation>
    </message>
    <message>
        <source>Hugging Face repo, e.g. bartowski/Model-GGUF</source>
        <translation>Hugging Face 仓库，例如 bartowski/Model-GGUF</translation>
    </message>
    <message>
        <source>Nothing is downloading. Models you download appear here with their progress, speed and time left; you can pause them, and a download stopped by closing Quantdesk goes on from where it was.

To start one, find a model in Discover, or type a Hugging Face repo and a quant (such as Q4_K_M) above and press Download.</source>
        <translation>当前没有下载。下载的模型会显示在这里，并附有进度、速度和剩余时间；你可以暂停下载，关闭 Quantdesk 而中断的下载会从中断处继续。

要开始下载，请在“发现”中查找模型，或在上方输入 Hugging Face 仓库和量化类型（如 Q4_K_M），然后点击“下载”。</translation>
    </message>
    <message>
        <source>Quant (Q4_K_M) or file name</source>
        <translation>量化类型（Q4_K_M）或文件名</translation>
    </message>
    <message>
        <source>Take finished and cancelled downloads off this list; the files stay.</source>
        <translation>从列表中移除已完成和已取消的下载；文件会保留。</translation>
    </message>
</context>
<context>
    <name>EmptyChatState</name>
    <message>
        <source>Add a model file to start chatting</source>
        <translation>添加模型文件以开始对话</translation>
    </message>
    <message>
        <source>Add a model file…</source>
        <translation>添加模型文件…</translation>
    </message>
    <message>
        <source>Discover models</source>
        <translation>发现模型</translation>
    </message>
    <message>
        <source>Find a model to download</source>
        <translation>查找要下载的模型</translation>
    </message>
    <message>
        <source>Let Quantdesk suggest a model for this computer</source>
        <translation>让 Quantdesk 为这台电脑推荐模型</translation>
    </message>
    <message>
        <source>No model is loaded</source>
        <translation>尚未加载模型</translation>
    </message>
    <message>
        <source>Set up a model…</source>
        <translation>设置模型…</translation>
    </message>
    <message>
        <source>To chat, load a model: pick one of your models in the list above, find a new one in Discover, or add a model file you already have.</source>
        <translation>要开始对话，请先加载模型：在上方列表中选择你的模型、在“发现”中查找新模型，或添加你已有的模型文件。</translation>
    </message>
    <message>
        <source>To chat, you need a model. Set one up with Quantdesk&apos;s help, find one in Discover, or add a model file you already have.</source>
        <translation>要开始对话，你需要一个模型。可以让 Quantdesk 帮你设置、在“发现”中查找，或添加你已有的模型文件。</translation>
    </message>
    <message>
        <source>Use a .gguf file that is already on this computer</source>
        <translation>使用这台电脑上已有的 .gguf 文件</translation>
    </message>
</context>
<context>
    <name>Engine</name>
    <message>
        <source>CPU engine</source>
        <translation>CPU 引擎</translation>
    </message>
    <message>
        <source>CPU engine: one built-in build</source>
        <translation>CPU 引擎：内置的单一版本</translation>
    </message>
    <message>
        <source>CPU engine: {variant} build</source>
        <translation>CPU 引擎：{variant} 版本</translation>
    </message>
    <message>
        <source>CPU engine: {words} build ({variant})</source>
        <translation>CPU 引擎：{words} 版本（{variant}）</translation>
    </message>
    <message>
        <source>GPU engine: {engines}</source>
        <translation>GPU 引擎：{engines}</translation>
    </message>
    <message>
        <source>basic x86-64</source>
        <translation>基础 x86-64</translation>
    </message>
    <message>
        <source>no GPU engine</source>
        <translation>无 GPU 引擎</translation>
    </message>
    <message>
        <source>{engine} on {cards}</source>
        <translation>{engine}，运行于 {cards}</translation>
    </message>
</context>
<context>
    <name>Expander</name>
    <message>
        <source>Details hidden</source>
        <translation>详情已收起</translation>
    </message>
    <message>
        <source>Details shown</source>
        <translation>详情已展开</translation>
    </message>
</context>
<context>
    <name>FileChooser</name>
    <message numerus="yes">
        <source>%n files</source>
        <translation>
            <numerusform>%n 个文件</numerusform>
        </translation>
    </message>
    <message>
        <source>Best quality</source>
        <translation>质量最佳</translation>
    </message>
    <message>
        <source>Context:</source>
        <translation>上下文：</translation>
    </message>
    <message>
        <source>Fastest</source>
        <translation>速度最快</translation>
    </message>
    <message>
        <source>File size</source>
        <translation>文件大小</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>适配</translation>
    </message>
    <message>
        <source>GPU layers</source>
        <translation>GPU 层数</translation>
    </message>
    <message>
        <source>Goal:</source>
        <translation>目标：</translation>
    </message>
    <message>
        <source>Needs</source>
        <translation>所需内存</translation>
    </message>
    <message>
        <source>Pick a model to see its files.</source>
        <translation>选择一个模型以查看其文件。</translation>
    </message>
    <message>
        <source>Quality</source>
        <translation>质量</translation>
    </message>
    <message>
        <source>Quant</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Reading {repo} on Hugging Face…</source>
        <translation>正在读取 Hugging Face 上的 {repo}…</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <source>Why this file?</source>
        <translation>为什么选这个文件？</translation>
    </message>
    <message>
        <source>Your choice. {summary}</source>
        <translation>你的选择。{summary}</translation>
    </message>
    <message>
        <source>one file</source>
        <translation>1 个文件</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>{n:,} tokens</source>
        <translation>{n:,} token</translation>
    </message>
    <message>
        <source>{repo}: {files}, as listed in Quantdesk (no internet needed to choose). Estimates are for this machine.</source>
        <translation>{repo}：{files}，来自 Quantdesk 内置的列表（选择时无需联网）。估算基于本机。</translation>
    </message>
    <message>
        <source>{repo}: {files}, as saved when Hugging Face was last reached (it can&apos;t be reached now). Estimates are for this machine.</source>
        <translation>{repo}：{files}，来自上次连上 Hugging Face 时保存的列表（现在无法连接）。估算基于本机。</translation>
    </message>
    <message>
        <source>{repo}: {files}. Estimates are for this machine.</source>
        <translation>{repo}：{files}。估算基于本机。</translation>
    </message>
    <message>
        <source>★ Recommended for this machine. {summary}</source>
        <translation>★ 为本机推荐。{summary}</translation>
    </message>
</context>
<context>
    <name>FilePage</name>
    <message>
        <source>Choose the file</source>
        <translation>选择文件</translation>
    </message>
    <message>
        <source>Models come in several sizes (quantizations). The one marked ★ fits your machine best; below the table, one line says why and &quot;Why this file?&quot; shows the details.</source>
        <translation>同一个模型有多种大小（量化版本）。标有 ★ 的最适合你的电脑；表格下方有一句话说明原因，点击“为什么选这个文件？”可查看详情。</translation>
    </message>
</context>
<context>
    <name>FirstRunWizard</name>
    <message>
        <source>Start chatting</source>
        <translation>开始对话</translation>
    </message>
    <message>
        <source>Welcome to Quantdesk</source>
        <translation>欢迎使用 Quantdesk</translation>
    </message>
</context>
<context>
    <name>Fit</name>
    <message>
        <source>Runs on the CPU</source>
        <translation>在 CPU 上运行</translation>
    </message>
    <message>
        <source>Runs on the GPU</source>
        <translation>在 GPU 上运行</translation>
    </message>
    <message>
        <source>Split GPU + CPU</source>
        <translation>GPU + CPU 分担</translation>
    </message>
    <message>
        <source>Split across computers</source>
        <translation>分布在多台电脑上</translation>
    </message>
    <message>
        <source>Too large</source>
        <translation>太大</translation>
    </message>
    <message>
        <source>Unknown</source>
        <translation>未知</translation>
    </message>
</context>
<context>
    <name>FitReasons</name>
    <message>
        <source>Fair quality</source>
        <translation>质量一般</translation>
    </message>
    <message>
        <source>Good quality</source>
        <translation>质量良好</translation>
    </message>
    <message>
        <source>Low quality</source>
        <translation>质量较低</translation>
    </message>
    <message>
        <source>Near-full quality</source>
        <translation>接近原始质量</translation>
    </message>
    <message>
        <source>No file in this repo names a quant Quantdesk knows (such as Q4_K_M), so none is picked for you; the table shows how each file fits.</source>
        <translation>这个仓库中没有文件名标明 Quantdesk 认识的量化类型（如 Q4_K_M），因此不会替你选择；表格中列出了每个文件的适配情况。</translation>
    </message>
    <message>
        <source>Nothing in this repo fits: the smallest, {name} ({size}), needs about {needed} with {context}&#xa0;tokens of context, and this machine can give {room}. A smaller model, a shorter context or more memory would.</source>
        <translation>这个仓库中没有能运行的文件：最小的 {name}（{size}）在 {context}&#xa0;token 上下文下约需 {needed}，而这台电脑只能提供 {room}。可以换更小的模型、缩短上下文或增加内存。</translation>
    </message>
    <message>
        <source>Quality unknown: the file&apos;s name doesn&apos;t say how it was quantized.</source>
        <translation>质量未知：文件名没有标明量化方式。</translation>
    </message>
    <message>
        <source>Quality unknown: there is no measurement for {quant} files.</source>
        <translation>质量未知：没有 {quant} 文件的测量数据。</translation>
    </message>
    <message>
        <source>Quality: keeps about {percent} of the full model&apos;s accuracy, as measured on another model, {source}. Quantized files rank the same way on most models, but this model&apos;s exact figures may differ.</source>
        <translation>质量：约保留完整模型 {percent} 的准确度（在另一个模型 {source} 上测得）。各量化版本的优劣排序在大多数模型上一致，但本模型的具体数值可能不同。</translation>
    </message>
    <message>
        <source>Quality: keeps about {percent} of the full model&apos;s accuracy, measured on a sibling model, {source}, which this model was built from; this model&apos;s own figure may differ a little.</source>
        <translation>质量：约保留完整模型 {percent} 的准确度（在同源模型 {source} 上测得，本模型由它衍生）；本模型自身的数值可能略有不同。</translation>
    </message>
    <message>
        <source>Quality: keeps {percent} of the full model&apos;s accuracy, measured on this model&apos;s own quantized files.</source>
        <translation>质量：保留完整模型 {percent} 的准确度（在本模型自己的量化文件上测得）。</translation>
    </message>
    <message>
        <source>Raised by {percent}: models loaded on this machine took that much more than estimated (the last {loads} loads).</source>
        <translation>已上调 {percent}：在这台电脑上加载过的模型比估计多用了这么多内存（最近 {loads} 次加载）。</translation>
    </message>
    <message>
        <source>Reduced quality</source>
        <translation>质量有所下降</translation>
    </message>
    <message>
        <source>Replies come at {words} on this machine (estimated from its memory speed).</source>
        <translation>在这台电脑上，回复速度为{words}（根据内存速度估算）。</translation>
    </message>
    <message>
        <source>Replies come at {words} on this machine (from a speed test here).</source>
        <translation>在这台电脑上，回复速度为{words}（来自在本机进行的速度测试）。</translation>
    </message>
    <message>
        <source>Replies come at {words} on this machine: slower than you read. Choose Fastest for a quicker file.</source>
        <translation>在这台电脑上，回复速度为{words}：比你的阅读速度还慢。选择“速度最快”可换用更快的文件。</translation>
    </message>
    <message>
        <source>Runs entirely on the {gpu}: needs about {used} of its {total} ({parts}), keeping the 1&#xa0;GiB llama.cpp leaves free on each GPU.</source>
        <translation>完全在 {gpu} 上运行：约需其 {total} 中的 {used}（{parts}），并保留 llama.cpp 在每块 GPU 上预留的 1&#xa0;GiB。</translation>
    </message>
    <message>
        <source>Runs on the CPU, because not even one layer fits the {gpu}: needs about {used} of the {usable} of RAM it can use; {parts}.</source>
        <translation>在 CPU 上运行，因为 {gpu} 连一层都放不下：约需可用内存 {usable} 中的 {used}；{parts}。</translation>
    </message>
    <message>
        <source>Runs on the CPU, because this engine can&apos;t use the {gpu}: needs about {used} of the {usable} of RAM it can use; {parts}.</source>
        <translation>在 CPU 上运行，因为当前引擎无法使用 {gpu}：约需可用内存 {usable} 中的 {used}；{parts}。</translation>
    </message>
    <message>
        <source>Runs on the CPU: needs about {used} of the {usable} of RAM it can use; {parts}.</source>
        <translation>在 CPU 上运行：约需可用内存 {usable} 中的 {used}；{parts}。</translation>
    </message>
    <message>
        <source>Split across computers, by each one&apos;s free memory: this computer {here}&#xa0;layers, {others} ({parts}; each layer&apos;s share of the context memory goes with it, the output layer stays here).</source>
        <translation>按每台电脑的空闲内存分布：这台电脑 {here}&#xa0;层，{others}（{parts}；每层对应的上下文内存随层一起分配，输出层留在这台电脑上）。</translation>
    </message>
    <message>
        <source>Split: {layers} of {all_layers}&#xa0;layers on the {gpu} ({gpu_used} of {gpu_usable} usable), the rest in RAM ({ram_used} of {ram_usable} usable); {parts}.</source>
        <translation>分担运行：{all_layers}&#xa0;层中的 {layers} 层在 {gpu} 上（可用 {gpu_usable}，占用 {gpu_used}），其余在内存中（可用 {ram_usable}，占用 {ram_used}）；{parts}。</translation>
    </message>
    <message>
        <source>The memory for the conversation and the working space is llama.cpp&apos;s own figure: it planned this load on this machine without reading the weights.</source>
        <translation>对话和运算空间所需的内存是 llama.cpp 自己给出的数字：它在这台电脑上规划了这次加载，而无需读取权重。</translation>
    </message>
    <message>
        <source>This repo has no GGUF files.</source>
        <translation>这个仓库没有 GGUF 文件。</translation>
    </message>
    <message>
        <source>Too large for this machine: needs about {needed}; it can give {room}.</source>
        <translation>对这台电脑来说太大：约需 {needed}，而它只能提供 {room}。</translation>
    </message>
    <message>
        <source>Too large: needs about {needed}, but this machine can give {room} of memory; {parts}.</source>
        <translation>太大：约需 {needed}，而这台电脑只能提供 {room} 内存；{parts}。</translation>
    </message>
    <message>
        <source>Too large: needs about {needed}, but this machine can give {room}: {ram_usable} of RAM and {gpu_usable} on the {gpu}; {parts}.</source>
        <translation>太大：约需 {needed}，而这台电脑只能提供 {room}：{ram_usable} 内存加 {gpu} 上的 {gpu_usable}；{parts}。</translation>
    </message>
    <message>
        <source>Unified memory: the GPU may use {share} of your {ram} of RAM, and the model&apos;s GPU and CPU parts share that RAM.</source>
        <translation>统一内存：GPU 最多可使用你 {ram} 内存中的 {share}，模型的 GPU 和 CPU 部分共享这些内存。</translation>
    </message>
    <message>
        <source>Unknown quality</source>
        <translation>质量未知</translation>
    </message>
    <message>
        <source>Usable RAM: your {ram} minus {reserve} kept for the system and other apps.</source>
        <translation>可用内存：你的 {ram} 减去为系统和其他应用保留的 {reserve}。</translation>
    </message>
    <message>
        <source>Very good quality</source>
        <translation>质量很好</translation>
    </message>
    <message>
        <source>Why {quant}: it is the best quality that fits RAM and GPU memory together (rule: a file 1–2&#xa0;GiB smaller than both together, split between them when needed).</source>
        <translation>为什么选 {quant}：它是内存和显存加起来能容纳的最佳质量（规则：文件比两者之和小 1–2&#xa0;GiB，必要时在两者间分担）。</translation>
    </message>
    <message>
        <source>Why {quant}: it is the best quality that fits this machine&apos;s memory.</source>
        <translation>为什么选 {quant}：它是这台电脑内存能容纳的最佳质量。</translation>
    </message>
    <message>
        <source>Why {quant}: it is the best quality that fits your RAM, with room for its context and for the system.</source>
        <translation>为什么选 {quant}：它是你的内存能容纳的最佳质量，并为上下文和系统留有余地。</translation>
    </message>
    <message>
        <source>Why {quant}: no file of good quality fits entirely on the {gpu}, and {quant} puts the most layers on it ({layers} of {all_layers}).</source>
        <translation>为什么选 {quant}：没有质量良好的文件能完全放进 {gpu}，而 {quant} 能在上面放下最多的层（{all_layers} 层中的 {layers} 层）。</translation>
    </message>
    <message>
        <source>Why {quant}: on the CPU, smaller files give faster replies, and 4-bit files are the smallest that keep good quality.</source>
        <translation>为什么选 {quant}：在 CPU 上，文件越小回复越快，而 4 位文件是能保持良好质量的最小文件。</translation>
    </message>
    <message>
        <source>Why {quant}: on the CPU, smaller files give faster replies, and no 4-bit file of this model fits, so {quant} is the fastest one that does.</source>
        <translation>为什么选 {quant}：在 CPU 上，文件越小回复越快，而这个模型没有能放下的 4 位文件，所以 {quant} 是能放下的文件中最快的。</translation>
    </message>
    <message>
        <source>Why {quant}: replies are fastest with the whole model on the GPU, and {quant} is the best quality that fits there (rule: a file 1–2&#xa0;GiB smaller than the GPU&apos;s memory).</source>
        <translation>为什么选 {quant}：整个模型放在 GPU 上时回复最快，而 {quant} 是能放进 GPU 的最佳质量（规则：文件比显存小 1–2&#xa0;GiB）。</translation>
    </message>
    <message>
        <source>about {low}–{high}&#xa0;words/s</source>
        <translation>约 {low}–{high}&#xa0;词/秒</translation>
    </message>
    <message>
        <source>about {n}&#xa0;words/s</source>
        <translation>约 {n}&#xa0;词/秒</translation>
    </message>
    <message>
        <source>file {file} + context memory {kv} for {context}&#xa0;tokens + working memory {compute}</source>
        <translation>文件 {file} + {context}&#xa0;token 的上下文内存 {kv} + 工作内存 {compute}</translation>
    </message>
    <message>
        <source>file {file} + context memory {kv} for {context}&#xa0;tokens + working memory {compute} + {backend} runtime {runtime}</source>
        <translation>文件 {file} + {context}&#xa0;token 的上下文内存 {kv} + 工作内存 {compute} + {backend} 运行时 {runtime}</translation>
    </message>
    <message>
        <source>{quality}, runs on the CPU: uses about {used} of your {ram} of RAM, leaving {left} for everything else.</source>
        <translation>{quality}，在 CPU 上运行：约占用你 {ram} 内存中的 {used}，剩余 {left} 供其他程序使用。</translation>
    </message>
    <message>
        <source>{quality}, runs on the CPU: uses about {used} of your {ram} of RAM. That is a tight fit: close other large apps before loading it.</source>
        <translation>{quality}，在 CPU 上运行：约占用你 {ram} 内存中的 {used}。内存比较紧张：加载前请关闭其他大型应用。</translation>
    </message>
    <message>
        <source>{quality}, split between GPU and CPU: uses about {gpu_used} of the GPU&apos;s {gpu_total} and {ram_used} of your {ram} of RAM.</source>
        <translation>{quality}，由 GPU 和 CPU 分担：约占用 GPU {gpu_total} 中的 {gpu_used}，以及你 {ram} 内存中的 {ram_used}。</translation>
    </message>
    <message>
        <source>{quality}, split between GPU and CPU: uses about {used} of your {ram} of memory.</source>
        <translation>{quality}，由 GPU 和 CPU 分担：约占用你 {ram} 内存中的 {used}。</translation>
    </message>
    <message>
        <source>{quality}, too large for this machine alone (needs about {needed}; it can give {room}): split across this computer and {others}.</source>
        <translation>{quality}，这台机器单独放不下（大约需要 {needed}；它能提供 {room}）：分布在这台电脑和 {others} 上。</translation>
    </message>
    <message>
        <source>{quality}, whole model on the GPU: uses about {used} of its {total}, leaving {left} free.</source>
        <translation>{quality}，整个模型在 GPU 上运行：约占用其 {total} 中的 {used}，剩余 {left}。</translation>
    </message>
    <message>
        <source>{quality}, whole model on the GPU: uses about {used} of the {share} of memory the GPU may use.</source>
        <translation>{quality}，整个模型在 GPU 上运行：约占用 GPU 可用的 {share} 内存中的 {used}。</translation>
    </message>
    <message>
        <source>{quant} is a K-quant: on the CPU, I-quants run slower than K-quants of a similar size.</source>
        <translation>{quant} 是 K-quant：在 CPU 上，I-quant 比大小相近的 K-quant 运行得慢。</translation>
    </message>
    <message>
        <source>{quant} is a K-quant: with {backend}, I-quants run slower than K-quants of a similar size.</source>
        <translation>{quant} 是 K-quant：使用 {backend} 时，I-quant 比大小相近的 K-quant 运行得慢。</translation>
    </message>
    <message>
        <source>{quant} is an I-quant: below 4 bits on {backend}, I-quants keep more quality per byte than K-quants.</source>
        <translation>{quant} 是 I-quant：在 {backend} 上低于 4 位时，I-quant 每字节保留的质量比 K-quant 更高。</translation>
    </message>
    <message>
        <source>{quant}: llama.cpp rearranges these weights at load time for {isa} CPUs, which makes it faster on the CPU.</source>
        <translation>{quant}：llama.cpp 会在加载时为 {isa} CPU 重排这些权重，使其在 CPU 上运行更快。</translation>
    </message>
    <message>
        <source>{rule} Larger files here add no measurable quality.</source>
        <translation>{rule} 更大的文件不会带来可测量的质量提升。</translation>
    </message>
</context>
<context>
    <name>GpuEngineSection</name>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Download again</source>
        <translation>重新下载</translation>
    </message>
    <message>
        <source>Download cancelled.</source>
        <translation>下载已取消。</translation>
    </message>
    <message>
        <source>Download the {pack}</source>
        <translation>下载 {pack}</translation>
    </message>
    <message>
        <source>Downloading the {pack}…</source>
        <translation>正在下载 {pack}…</translation>
    </message>
    <message>
        <source>GPU engine</source>
        <translation>GPU 引擎</translation>
    </message>
    <message>
        <source>Quantdesk runs on every graphics card through Vulkan. On NVIDIA cards the CUDA engine is faster; it is a separate download because it is large.</source>
        <translation>Quantdesk 通过 Vulkan 支持所有显卡。在 NVIDIA 显卡上，CUDA 引擎更快；它体积较大，因此需要单独下载。</translation>
    </message>
    <message>
        <source>Reading the list of engines…</source>
        <translation>正在读取引擎列表…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Removed. A model already loaded keeps the engine until Quantdesk quits.</source>
        <translation>已移除。已加载的模型会继续使用该引擎，直到 Quantdesk 退出。</translation>
    </message>
    <message>
        <source>in use.</source>
        <translation>正在使用。</translation>
    </message>
    <message>
        <source>it couldn&apos;t be used: {reason}</source>
        <translation>无法使用：{reason}</translation>
    </message>
    <message>
        <source>used from the next model load.</source>
        <translation>下次加载模型时启用。</translation>
    </message>
    <message>
        <source>used when Quantdesk next starts.</source>
        <translation>下次启动 Quantdesk 时启用。</translation>
    </message>
    <message>
        <source>{pack} installed ({size}); {when}</source>
        <translation>{pack} 已安装（{size}）；{when}</translation>
    </message>
    <message>
        <source>{pack}: not installed.</source>
        <translation>{pack}：未安装。</translation>
    </message>
</context>
<context>
    <name>InterruptedRow</name>
    <message>
        <source>Discard</source>
        <translation>丢弃</translation>
    </message>
    <message>
        <source>Discard download</source>
        <translation>丢弃下载</translation>
    </message>
    <message>
        <source>Discard the partial download of {name}? The {done} downloaded so far are deleted; downloading it again starts from the beginning.</source>
        <translation>要丢弃 {name} 未完成的下载吗？已下载的 {done} 将被删除，再次下载需从头开始。</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Stopped at {done} of {size}; resume continues from there.</source>
        <translation>已停在 {done} / {size}，继续下载将从此处接着进行。</translation>
    </message>
</context>
<context>
    <name>Machine</name>
    <message>
        <source>ARM NEON with dot product</source>
        <translation>ARM NEON（支持点积指令）</translation>
    </message>
    <message>
        <source>no AVX (the slowest engine variant is used)</source>
        <translation>不支持 AVX（将使用最慢的引擎版本）</translation>
    </message>
</context>
<context>
    <name>MachinePage</name>
    <message>
        <source>&lt;b&gt;CPU:&lt;/b&gt; {name}, {cores} cores — {features}</source>
        <translation>&lt;b&gt;CPU：&lt;/b&gt;{name}，{cores} 核 — {features}</translation>
    </message>
    <message>
        <source>&lt;b&gt;Engine:&lt;/b&gt; checking…</source>
        <translation>&lt;b&gt;引擎：&lt;/b&gt;检测中…</translation>
    </message>
    <message>
        <source>&lt;b&gt;Engine:&lt;/b&gt; {engine}</source>
        <translation>&lt;b&gt;引擎：&lt;/b&gt;{engine}</translation>
    </message>
    <message>
        <source>&lt;b&gt;GPU:&lt;/b&gt; none found — models run on the CPU</source>
        <translation>&lt;b&gt;GPU：&lt;/b&gt;未找到 — 模型将在 CPU 上运行</translation>
    </message>
    <message>
        <source>&lt;b&gt;GPU:&lt;/b&gt; {name}, {vram} (shared with the system) — {speed}</source>
        <translation>&lt;b&gt;GPU：&lt;/b&gt;{name}，{vram}（与系统共享）— {speed}</translation>
    </message>
    <message>
        <source>&lt;b&gt;GPU:&lt;/b&gt; {name}, {vram} — {speed}</source>
        <translation>&lt;b&gt;GPU：&lt;/b&gt;{name}，{vram} — {speed}</translation>
    </message>
    <message>
        <source>&lt;b&gt;Memory:&lt;/b&gt; {ram} RAM</source>
        <translation>&lt;b&gt;内存：&lt;/b&gt;{ram} RAM</translation>
    </message>
    <message>
        <source>Couldn&apos;t detect your hardware ({error}). Enter your memory below.</source>
        <translation>无法检测你的硬件（{error}）。请在下方填写内存大小。</translation>
    </message>
    <message>
        <source>Looking at your hardware…</source>
        <translation>正在检测你的硬件…</translation>
    </message>
    <message>
        <source>Memory (RAM)</source>
        <translation>内存（RAM）</translation>
    </message>
    <message>
        <source>What Quantdesk found. Correct anything it got wrong.</source>
        <translation>这是 Quantdesk 检测到的配置，如有不对请修改。</translation>
    </message>
    <message>
        <source>Your corrections are remembered. Quantdesk keeps about 1&#xa0;GiB of GPU memory free and leaves some RAM to your other apps.</source>
        <translation>你的修改会被记住。Quantdesk 会预留约 1&#xa0;GiB 显存，并为其他应用留出一部分内存。</translation>
    </message>
    <message>
        <source>Your machine</source>
        <translation>你的电脑</translation>
    </message>
    <message>
        <source>fast path available</source>
        <translation>可使用 GPU 加速</translation>
    </message>
    <message>
        <source>this engine build can&apos;t use it yet; the CPU is used</source>
        <translation>当前引擎版本暂不支持，将使用 CPU</translation>
    </message>
    <message>
        <source>{gpu} memory</source>
        <translation>{gpu} 显存</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>&amp;Go</source>
        <translation>转到(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Quantdesk</source>
        <translation>Quantdesk(&amp;Q)</translation>
    </message>
    <message>
        <source>API on {url}</source>
        <translation>API 已开启：{url}</translation>
    </message>
    <message>
        <source>About Quantdesk</source>
        <translation>关于 Quantdesk</translation>
    </message>
    <message>
        <source>Add a model file…</source>
        <translation>添加模型文件…</translation>
    </message>
    <message>
        <source>Chats</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Choose a model file…</source>
        <translation>选择模型文件…</translation>
    </message>
    <message>
        <source>Discover</source>
        <translation>发现</translation>
    </message>
    <message>
        <source>Downloads</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Keyboard shortcuts…</source>
        <translation>键盘快捷键…</translation>
    </message>
    <message>
        <source>Load it</source>
        <translation>加载</translation>
    </message>
    <message>
        <source>Load it again</source>
        <translation>重新加载</translation>
    </message>
    <message>
        <source>Load this chat&apos;s model</source>
        <translation>加载此对话的模型</translation>
    </message>
    <message>
        <source>Load with {fits} tokens</source>
        <translation>以 {fits} 个 token的上下文加载</translation>
    </message>
    <message>
        <source>Loaded without another computer: {reason}</source>
        <translation>已在不使用另一台电脑的情况下加载：{reason}</translation>
    </message>
    <message>
        <source>Loading the model… Type your message meanwhile; Send works once it is ready.</source>
        <translation>正在加载模型… 你可以先输入消息，加载完成后即可发送。</translation>
    </message>
    <message>
        <source>Loading {name}…</source>
        <translation>正在加载 {name}…</translation>
    </message>
    <message>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>No model</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <source>No model loaded.</source>
        <translation>尚未加载模型。</translation>
    </message>
    <message>
        <source>Not known yet.</source>
        <translation>尚不清楚。</translation>
    </message>
    <message>
        <source>Quantdesk</source>
        <translation>Quantdesk</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>Ready: {name} · {size} · context {ctx:,}&#xa0;tokens · {kind} · loaded in {secs}</source>
        <translation>就绪：{name} · {size} · 上下文 {ctx:,} token · {kind} · 加载用时 {secs}</translation>
    </message>
    <message>
        <source>Set up a model…</source>
        <translation>设置模型…</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Switch to it</source>
        <translation>切换到它</translation>
    </message>
    <message>
        <source>That model couldn&apos;t be loaded (the reason is above). Choose another one in the list above, or add a model file.</source>
        <translation>无法加载该模型（原因见上方）。请在上方列表中选择其他模型，或添加模型文件。</translation>
    </message>
    <message numerus="yes">
        <source>The GPU didn&apos;t have enough free memory for %n layer(s) of this model, so it runs on the CPU alone: replies will be slower.</source>
        <translation>
            <numerusform>显卡的空闲显存放不下该模型的 %n 层，因此它只在 CPU 上运行：回复会变慢。</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>The GPU didn&apos;t have enough free memory for %n layer(s) of this model, so it was loaded with {loaded} on the GPU and the rest on the CPU: replies will be slower.</source>
        <translation>
            <numerusform>显卡的空闲显存放不下该模型的 %n 层，因此已将 {loaded} 放在显卡上、其余放在 CPU 上加载：回复会变慢。</numerusform>
        </translation>
    </message>
    <message>
        <source>The computer at {address} stopped answering, so the model loaded across it can&apos;t reply any more. Load it again to go on with the computers that answer (or this one alone).</source>
        <translation>位于 {address} 的电脑已不再响应，因此分布在它上面的模型无法再回复。请重新加载，以便用仍在响应的电脑（或只用这台电脑）继续。</translation>
    </message>
    <message>
        <source>The local API server is on: Settings → Local API server</source>
        <translation>本地 API 服务器已开启：设置 → 本地 API 服务器</translation>
    </message>
    <message>
        <source>The model is ready. Type a message below to start.</source>
        <translation>模型已就绪。在下方输入消息即可开始。</translation>
    </message>
    <message>
        <source>The model you used last, {name}, is no longer at {path}. Choose another one.</source>
        <translation>你上次使用的模型 {name} 已不在 {path}。请选择其他模型。</translation>
    </message>
    <message>
        <source>There isn&apos;t enough free memory to load {name}, even with a short context. Close other programs or choose a smaller file.</source>
        <translation>即使使用较短的上下文，空闲内存也不足以加载 {name}。请关闭其他程序，或选择更小的文件。</translation>
    </message>
    <message>
        <source>There wasn&apos;t enough memory for a context of {asked} tokens, so {name} wasn&apos;t loaded. A context of {fits} tokens fits in the memory free now.</source>
        <translation>内存不足以容纳 {asked} 个 token的上下文，因此未加载 {name}。以现在的空闲内存，可以容纳 {fits} 个 token的上下文。</translation>
    </message>
    <message>
        <source>This chat was with {name}, but its file is no longer at {path}. Choose another model above, or add the file again.</source>
        <translation>这个对话使用的是 {name}，但它的文件已不在 {path}。请在上方选择其他模型，或重新添加该文件。</translation>
    </message>
    <message>
        <source>This chat was with {name}.</source>
        <translation>这个对话使用的是 {name}。</translation>
    </message>
    <message>
        <source>This chat was with {name}; {loaded} is loaded now.</source>
        <translation>这个对话使用的是 {name}；当前加载的是 {loaded}。</translation>
    </message>
    <message>
        <source>Use a .gguf file that is already on this computer</source>
        <translation>使用这台电脑上已有的 .gguf 文件</translation>
    </message>
    <message>
        <source>What sets the speed of replies here, and the one change most likely to help</source>
        <translation>这里决定回复速度的因素，以及最可能有帮助的一项改动</translation>
    </message>
    <message>
        <source>Why is it slow?</source>
        <translation>为什么慢？</translation>
    </message>
    <message>
        <source>all layers on the GPU</source>
        <translation>所有层都在 GPU 上</translation>
    </message>
    <message>
        <source>another computer</source>
        <translation>另一台电脑</translation>
    </message>
    <message>
        <source>split across this computer ({here} layers) and {others}</source>
        <translation>分布在这台电脑（{here} 层）和 {others} 上</translation>
    </message>
    <message>
        <source>split across {count} computers</source>
        <translation>分布在 {count} 台电脑上</translation>
    </message>
    <message>
        <source>{model} — Quantdesk</source>
        <translation>{model} — Quantdesk</translation>
    </message>
    <message>
        <source>{name} can&apos;t reply any more: part of it was on {address}, which stopped answering.</source>
        <translation>{name} 无法再回复：它的一部分在 {address} 上，而那台电脑已不再响应。</translation>
    </message>
    <message>
        <source>{n} of {total}&#xa0;layers on the GPU</source>
        <translation>{total} 层中有 {n} 层在 GPU 上</translation>
    </message>
</context>
<context>
    <name>MessageWidget</name>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy message</source>
        <translation>复制消息</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <source>Edit message</source>
        <translation>编辑消息</translation>
    </message>
    <message>
        <source>Next version</source>
        <translation>下一个版本</translation>
    </message>
    <message>
        <source>Previous version</source>
        <translation>上一个版本</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <source>Regenerate reply</source>
        <translation>重新生成回复</translation>
    </message>
    <message>
        <source>Thinking…</source>
        <translation>正在思考…</translation>
    </message>
    <message>
        <source>Thought for {time}</source>
        <translation>思考了 {time}</translation>
    </message>
    <message>
        <source>Thoughts</source>
        <translation>思考过程</translation>
    </message>
    <message>
        <source>Version {index} of {count}</source>
        <translation>第 {index} 个版本，共 {count} 个</translation>
    </message>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>interrupted — the app closed during this reply</source>
        <translation>已中断：回复过程中应用被关闭</translation>
    </message>
    <message>
        <source>left out the {n} oldest messages to fit the context</source>
        <translation>为适应上下文，略去了最早的 {n} 条消息</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>{index}/{count}</source>
        <translation>{index}/{count}</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <source>Couldn&apos;t open the chat: {reason}</source>
        <translation>无法打开对话：{reason}</translation>
    </message>
    <message>
        <source>Couldn&apos;t read the chats: {reason}</source>
        <translation>无法读取对话：{reason}</translation>
    </message>
    <message>
        <source>Couldn&apos;t save the chat: {reason}</source>
        <translation>无法保存对话：{reason}</translation>
    </message>
    <message>
        <source>Something went wrong in Quantdesk: {error}. The details are in the log: {log}</source>
        <translation>Quantdesk 出现了问题：{error}。详细信息请查看日志：{log}</translation>
    </message>
</context>
<context>
    <name>ModelList</name>
    <message>
        <source>Add a model file…</source>
        <translation>添加模型文件…</translation>
    </message>
    <message>
        <source>GGUF models matching “{q}”:</source>
        <translation>与“{q}”匹配的 GGUF 模型：</translation>
    </message>
    <message>
        <source>Hugging Face can&apos;t be reached, so search is off. The recommended models below and files on this computer still work.</source>
        <translation>无法连接 Hugging Face，搜索暂不可用。下方的推荐模型和这台电脑上的文件仍可使用。</translation>
    </message>
    <message>
        <source>No GGUF models match “{q}”.</source>
        <translation>没有与“{q}”匹配的 GGUF 模型。</translation>
    </message>
    <message>
        <source>Recommended models (they can be chosen offline; downloading needs the internet):</source>
        <translation>推荐模型（可离线选择，下载需要联网）：</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>搜索</translation>
    </message>
    <message>
        <source>Search Hugging Face for GGUF models</source>
        <translation>在 Hugging Face 上搜索 GGUF 模型</translation>
    </message>
    <message>
        <source>Searching Hugging Face for “{q}”…</source>
        <translation>正在 Hugging Face 上搜索“{q}”…</translation>
    </message>
    <message>
        <source>Use a .gguf file that is already on this computer</source>
        <translation>使用这台电脑上已有的 .gguf 文件</translation>
    </message>
    <message>
        <source>{fit} with {quant} ({size}).</source>
        <translation>{fit}，使用 {quant}（{size}）。</translation>
    </message>
    <message>
        <source>{fit} with {quant} ({size}). Suggested for this machine.</source>
        <translation>{fit}，使用 {quant}（{size}）。推荐这台电脑使用。</translation>
    </message>
    <message>
        <source>{fit}: no file of it fits this machine.</source>
        <translation>{fit}：没有文件适合这台电脑。</translation>
    </message>
</context>
<context>
    <name>ModelPage</name>
    <message>
        <source>Choose a model</source>
        <translation>选择模型</translation>
    </message>
    <message>
        <source>Pick one of these, search Hugging Face, or use a file you already have.</source>
        <translation>从下面挑一个、在 Hugging Face 上搜索，或使用你已有的文件。</translation>
    </message>
</context>
<context>
    <name>ModelsPage</name>
    <message>
        <source>Add a model file…</source>
        <translation>添加模型文件…</translation>
    </message>
    <message>
        <source>Added {name}.</source>
        <translation>已添加 {name}。</translation>
    </message>
    <message>
        <source>Adding {name}…</source>
        <translation>正在添加 {name}…</translation>
    </message>
    <message>
        <source>Chat with it</source>
        <translation>开始对话</translation>
    </message>
    <message>
        <source>Delete model</source>
        <translation>删除模型</translation>
    </message>
    <message>
        <source>Delete {name} ({size}) from disk?</source>
        <translation>要从磁盘删除 {name}（{size}）吗？</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <source>In the models folder: {used} · partial downloads: {partial} · free: {free}</source>
        <translation>模型文件夹中：{used} · 未完成的下载：{partial} · 可用：{free}</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>内存</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>On this machine</source>
        <translation>在本机上</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>打开文件夹</translation>
    </message>
    <message>
        <source>Quant</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Remove from the list…</source>
        <translation>从列表中移除…</translation>
    </message>
    <message>
        <source>Remove model</source>
        <translation>移除模型</translation>
    </message>
    <message>
        <source>Remove {name} from the list? Its file is no longer at {path}.</source>
        <translation>要将 {name} 从列表中移除吗？它的文件已不在 {path}。</translation>
    </message>
    <message>
        <source>Remove {name} from the list? The file itself stays where it is ({path}).</source>
        <translation>要将 {name} 从列表中移除吗？文件本身会保留在原处（{path}）。</translation>
    </message>
    <message>
        <source>Repository</source>
        <translation>仓库</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Use a .gguf file that is already on this computer</source>
        <translation>使用这台电脑上已有的 .gguf 文件</translation>
    </message>
    <message>
        <source>copied in</source>
        <translation>已复制</translation>
    </message>
    <message>
        <source>estimated {estimated} · measured {measured}</source>
        <translation>估计 {estimated} · 实测 {measured}</translation>
    </message>
    <message>
        <source>file not found</source>
        <translation>找不到文件</translation>
    </message>
    <message>
        <source>measured {measured}</source>
        <translation>实测 {measured}</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>used where it is</source>
        <translation>在原位置使用</translation>
    </message>
    <message>
        <source>{path} is no longer there. Remove it from the list, or put it back.</source>
        <translation>{path} 已不存在。请将它从列表中移除，或把文件放回原处。</translation>
    </message>
</context>
<context>
    <name>NoteBanner</name>
    <message>
        <source>Got it</source>
        <translation>知道了</translation>
    </message>
</context>
<context>
    <name>ReadyPage</name>
    <message>
        <source> Thinking starts {mode}; switch it next to Send.</source>
        <translation> 思考模式初始为{mode}，可在“发送”按钮旁切换。</translation>
    </message>
    <message>
        <source>Getting ready</source>
        <translation>正在准备</translation>
    </message>
    <message>
        <source>Go back to choose another model or file.</source>
        <translation>返回上一步可选择其他模型或文件。</translation>
    </message>
    <message>
        <source>Loading the model into memory, then the chat opens.</source>
        <translation>正在将模型加载到内存，完成后将打开对话。</translation>
    </message>
    <message>
        <source>Loading {name} into memory…</source>
        <translation>正在将 {name} 加载到内存…</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>on</source>
        <translation>开启</translation>
    </message>
    <message>
        <source>{name} is ready ({ctx:,}&#xa0;tokens of context).</source>
        <translation>{name} 已就绪（上下文 {ctx:,} token）。</translation>
    </message>
</context>
<context>
    <name>Session</name>
    <message>
        <source>Quantdesk can&apos;t write its chat history at {path}: {reason} Until then, your chats ({chats}) are shown from a copy, and what you add won&apos;t be kept after Quantdesk closes.</source>
        <translation>Quantdesk 无法写入位于 {path} 的对话记录：{reason} 在此之前，你的对话（{chats}）将从副本中显示，新增的内容在 Quantdesk 关闭后不会保留。</translation>
    </message>
    <message>
        <source>Quantdesk closed unexpectedly while {names} was replying. The reply so far is kept, marked as interrupted.</source>
        <translation>Quantdesk 在 {names} 回复时意外关闭。已生成的回复已保留，并标记为“已中断”。</translation>
    </message>
    <message>
        <source>a model</source>
        <translation>某个模型</translation>
    </message>
    <message>
        <source>{error} Until then, the chats you have won&apos;t be kept after Quantdesk closes.</source>
        <translation>{error} 在此之前，你的对话在 Quantdesk 关闭后不会保留。</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <source> layers</source>
        <translation> 层</translation>
    </message>
    <message>
        <source> tokens</source>
        <translation> token</translation>
    </message>
    <message>
        <source>A number of layers</source>
        <translation>指定层数</translation>
    </message>
    <message>
        <source>Access token</source>
        <translation>访问令牌</translation>
    </message>
    <message>
        <source>All layers on the GPU</source>
        <translation>所有层都放在 GPU 上</translation>
    </message>
    <message>
        <source>Appearance</source>
        <translation>外观</translation>
    </message>
    <message>
        <source>Applies the next time Quantdesk starts.</source>
        <translation>下次启动 Quantdesk 时生效。</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>Automatic (from the recommendation)</source>
        <translation>自动（按推荐设置）</translation>
    </message>
    <message>
        <source>CPU only</source>
        <translation>仅使用 CPU</translation>
    </message>
    <message>
        <source>CPU threads</source>
        <translation>CPU 线程数</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>Checking the system keychain…</source>
        <translation>正在检查系统钥匙串…</translation>
    </message>
    <message>
        <source>Choose the new models folder</source>
        <translation>选择新的模型文件夹</translation>
    </message>
    <message>
        <source>Couldn&apos;t save the settings ({reason}); the change applies until Quantdesk closes.</source>
        <translation>无法保存设置（{reason}）；本次修改在 Quantdesk 关闭前有效。</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Default context length</source>
        <translation>默认上下文长度</translation>
    </message>
    <message>
        <source>GPU offload</source>
        <translation>GPU 卸载</translation>
    </message>
    <message>
        <source>Hugging Face</source>
        <translation>Hugging Face</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Load the last model when Quantdesk starts</source>
        <translation>启动 Quantdesk 时加载上次使用的模型</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Models folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Move the models folder and every file in it</source>
        <translation>移动模型文件夹及其中的所有文件</translation>
    </message>
    <message>
        <source>Moved {size} of models to {path}.</source>
        <translation>已将 {size} 的模型移动到 {path}。</translation>
    </message>
    <message>
        <source>Move…</source>
        <translation>移动…</translation>
    </message>
    <message>
        <source>Moving the models to {path}…</source>
        <translation>正在将模型移动到 {path}…</translation>
    </message>
    <message>
        <source>Needed only for gated or private models. The token is kept in the system keychain, never in a settings file or the log.</source>
        <translation>仅在使用需授权或私有的模型时需要。令牌保存在系统钥匙串中，绝不会写入设置文件或日志。</translation>
    </message>
    <message>
        <source>No system keychain is available, so Quantdesk can&apos;t save a token here (it never keeps one in a plain file). Setting HF_TOKEN or running `hf auth login` still works.</source>
        <translation>系统钥匙串不可用，因此 Quantdesk 无法在此保存令牌（它绝不会把令牌存成普通文件）。设置 HF_TOKEN 或运行 `hf auth login` 仍然可用。</translation>
    </message>
    <message>
        <source>No token saved. A saved token is stored in the system keychain; HF_TOKEN or `hf auth login` also work.</source>
        <translation>尚未保存令牌。保存的令牌会存放在系统钥匙串中；也可以使用 HF_TOKEN 或 `hf auth login`。</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Removing the token from the system keychain…</source>
        <translation>正在从系统钥匙串中移除令牌…</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Saving the token in the system keychain…</source>
        <translation>正在将令牌保存到系统钥匙串…</translation>
    </message>
    <message>
        <source>Set to {language} by {variable} for this run; your choice applies when it is not set.</source>
        <translation>本次运行由 {variable} 设为{language}；未设置该变量时，你的选择才会生效。</translation>
    </message>
    <message>
        <source>Stored in the system keychain.</source>
        <translation>已保存在系统钥匙串中。</translation>
    </message>
    <message>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Used when a model is loaded. A chat&apos;s own context length, set in its Reply settings, comes first.</source>
        <translation>加载模型时使用。若对话在“回复设置”中指定了上下文长度，则以对话设置为准。</translation>
    </message>
    <message>
        <source>hf_…</source>
        <translation>hf_…</translation>
    </message>
    <message>
        <source>{done} of {total}</source>
        <translation>{done} / {total}</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <source>Keys</source>
        <translation>按键</translation>
    </message>
    <message>
        <source>What they do</source>
        <translation>作用</translation>
    </message>
</context>
<context>
    <name>ThinkingFamily</name>
    <message>
        <source>Always-reasoning model (Qwen3 Thinking-2507, DeepSeek-R1 and distills, QwQ, AceReason)</source>
        <translation>始终推理的模型（Qwen3 Thinking-2507、DeepSeek-R1 及其蒸馏版、QwQ、AceReason）</translation>
    </message>
    <message>
        <source>Base model (text completion)</source>
        <translation>基础模型（文本续写）</translation>
    </message>
    <message>
        <source>Chat model</source>
        <translation>对话模型</translation>
    </message>
    <message>
        <source>DeepSeek-V3.1 (thinking on/off)</source>
        <translation>DeepSeek-V3.1（思考可开关）</translation>
    </message>
    <message>
        <source>GLM-4.5 and later (thinking on/off)</source>
        <translation>GLM-4.5 及更新版本（思考可开关）</translation>
    </message>
    <message>
        <source>Granite 3.2 and later (thinking on/off)</source>
        <translation>Granite 3.2 及更新版本（思考可开关）</translation>
    </message>
    <message>
        <source>Granite answers directly unless thinking is on; its thinking instructions take the place of the default system prompt.</source>
        <translation>除非开启思考，Granite 会直接回答；它的思考指示会取代默认的系统提示词。</translation>
    </message>
    <message>
        <source>Llama-3.1 Nemotron Nano v1/v1.1, Super v1 (detailed thinking on/off)</source>
        <translation>Llama-3.1 Nemotron Nano v1/v1.1、Super v1（detailed thinking on/off）</translation>
    </message>
    <message>
        <source>Magistral and Ministral Reasoning (always reasons, [THINK])</source>
        <translation>Magistral 与 Ministral Reasoning（始终推理，[THINK]）</translation>
    </message>
    <message>
        <source>Nemotron Nano v2, Llama-3.3 Nemotron Super v1.5 (/think and /no_think)</source>
        <translation>Nemotron Nano v2、Llama-3.3 Nemotron Super v1.5（/think 与 /no_think）</translation>
    </message>
    <message>
        <source>Phi-4-reasoning (always reasons)</source>
        <translation>Phi-4-reasoning（始终推理）</translation>
    </message>
    <message>
        <source>Qwen3 hybrid (thinking on/off)</source>
        <translation>Qwen3 混合模式（思考可开关）</translation>
    </message>
    <message>
        <source>Seed-OSS (thinking on/off)</source>
        <translation>Seed-OSS（思考可开关）</translation>
    </message>
    <message>
        <source>SmolLM3 (/think and /no_think)</source>
        <translation>SmolLM3（/think 与 /no_think）</translation>
    </message>
    <message>
        <source>SmolLM3 thinks or answers directly as its template&apos;s reasoning mode says (/think or /no_think).</source>
        <translation>SmolLM3 按其模板中的推理模式（/think 或 /no_think）决定先思考还是直接回答。</translation>
    </message>
    <message>
        <source>This is a base model: it has no chat format and no thinking mode, so it continues the text you write instead of answering it.</source>
        <translation>这是一个基础模型：它没有对话格式，也没有思考模式，因此会续写你输入的文字，而不是回答它。</translation>
    </message>
    <message>
        <source>This model always reasons before answering (its default system prompt asks it to; your own system prompt replaces that). Turning thinking off skips the reasoning, and its answers get noticeably worse.</source>
        <translation>这个模型总是先推理再回答（其默认系统提示词要求如此；你自己的系统提示词会取代它）。关闭思考会跳过推理，回答质量会明显下降。</translation>
    </message>
    <message>
        <source>This model always reasons before answering. Turning thinking off skips the reasoning, and its answers get noticeably worse.</source>
        <translation>这个模型总是先推理再回答。关闭思考会跳过推理，回答质量会明显下降。</translation>
    </message>
    <message>
        <source>This model&apos;s chat template has no thinking switch Quantdesk knows, and it isn&apos;t a known reasoning model, so there is no thinking toggle.</source>
        <translation>此模型的聊天模板中没有 Quantdesk 认识的思考开关，它也不是已知的推理模型，因此没有思考开关。</translation>
    </message>
    <message>
        <source>This model&apos;s thinking switch is /think or /no_think at the end of the system prompt; Quantdesk adds it after your instructions.</source>
        <translation>此模型的思考开关是系统提示词末尾的 /think 或 /no_think；Quantdesk 会把它加在你的指令之后。</translation>
    </message>
    <message>
        <source>This model&apos;s thinking switch is its system prompt; your instructions are sent at the start of your first message, as its model card asks.</source>
        <translation>这个模型通过系统提示词开关思考模式；按照其模型卡的要求，你的指示会放在第一条消息的开头发送。</translation>
    </message>
    <message>
        <source>gpt-oss (reasoning effort low, medium or high)</source>
        <translation>gpt-oss（推理力度：低、中、高）</translation>
    </message>
    <message>
        <source>gpt-oss always reasons; choose how much: low is fastest, high thinks longest.</source>
        <translation>gpt-oss 总是会推理；请选择推理力度：低最快，高思考最久。</translation>
    </message>
</context>
<context>
    <name>WelcomePage</name>
    <message>
        <source>1. Your machine: Quantdesk looks at your memory, graphics card and processor, and you can correct what it finds.</source>
        <translation>1. 你的电脑：Quantdesk 会查看你的内存、显卡和处理器，检测结果不对时你可以修改。</translation>
    </message>
    <message>
        <source>2. A model: pick one of the recommended models, search Hugging Face, or use a model file you already have. Quantdesk stars the file that suits your machine and says why.</source>
        <translation>2. 模型：从推荐模型中挑选、在 Hugging Face 上搜索，或使用你已有的模型文件。Quantdesk 会用 ★ 标出最适合你电脑的文件，并说明原因。</translation>
    </message>
    <message>
        <source>3. Download and chat: the file is downloaded and checked, then loaded, and the chat opens.</source>
        <translation>3. 下载并对话：文件下载并校验后会被加载，随后打开对话。</translation>
    </message>
    <message>
        <source>&lt;b&gt;What happens next&lt;/b&gt;</source>
        <translation>&lt;b&gt;接下来的步骤&lt;/b&gt;</translation>
    </message>
    <message>
        <source>&lt;b&gt;What you need&lt;/b&gt;</source>
        <translation>&lt;b&gt;你需要准备&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Quantdesk finds the right version of a model for your machine, downloads it, and lets you chat with it. Everything runs here: your conversations never leave this computer.</source>
        <translation>Quantdesk 会为你的电脑找到合适版本的模型，下载后即可开始对话。一切都在本地运行，对话内容绝不会离开这台电脑。</translation>
    </message>
    <message>
        <source>Run a language model on this computer</source>
        <translation>在这台电脑上运行大语言模型</translation>
    </message>
    <message>
        <source>You have {free} free for models in {folder}.</source>
        <translation>{folder} 中还有 {free} 可用于存放模型。</translation>
    </message>
    <message>
        <source>• An internet connection for the download (only for it: chatting works offline), and a few minutes to an hour, depending on your connection and the model.</source>
        <translation>• 下载时需要联网（仅下载需要，对话可离线进行），根据网速和模型大小，需要几分钟到一小时。</translation>
    </message>
    <message>
        <source>• Free disk space for the model: most files are 1 to 10&#xa0;GiB, and each file&apos;s size is shown before anything is downloaded.</source>
        <translation>• 为模型预留磁盘空间：大多数文件在 1 到 10&#xa0;GiB 之间，下载前会显示每个文件的大小。</translation>
    </message>
</context>
<context>
    <name>WhySlowPanel</name>
    <message numerus="yes">
        <source>%n threads</source>
        <translation>
            <numerusform>%n 个线程</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>All %n layers on the CPU</source>
        <translation>
            <numerusform>全部 %n 层都在 CPU 上</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>All %n layers on {gpu}</source>
        <translation>
            <numerusform>全部 %n 层都在 {gpu} 上</numerusform>
        </translation>
    </message>
    <message>
        <source>All layers on the CPU</source>
        <translation>所有层都在 CPU 上</translation>
    </message>
    <message>
        <source>All layers on {gpu}</source>
        <translation>所有层都在 {gpu} 上</translation>
    </message>
    <message>
        <source>CPU threads</source>
        <translation>CPU 线程数</translation>
    </message>
    <message>
        <source>Choose a smaller file of this model (Discover lists them). Nothing else holds it back: at {tps}&#xa0;tokens/s, the computer reads the whole file for every word, and a smaller file is read faster.</source>
        <translation>选择该模型更小的文件（“发现”页中有列出）。没有其他因素拖慢它：以 {tps} token/秒的速度，电脑每写一个词都要读完整个文件，更小的文件读得更快。</translation>
    </message>
    <message>
        <source>Choose a smaller file of this model, such as {quant} (Discover lists them). Nothing else holds it back: at {tps}&#xa0;tokens/s, the computer reads the whole file for every word, and a smaller file is read faster.</source>
        <translation>选择该模型更小的文件，例如 {quant}（“发现”页中有列出）。没有其他因素拖慢它：以 {tps} token/秒的速度，电脑每写一个词都要读完整个文件，更小的文件读得更快。</translation>
    </message>
    <message>
        <source>Choose a smaller file: {file} ({quant}) is already on this computer. Nothing else holds this model back: at {tps}&#xa0;tokens/s, the computer reads the whole file for every word, and a smaller file is read faster.</source>
        <translation>选择更小的文件：{file}（{quant}）已在这台电脑上。没有其他因素拖慢这个模型：以 {tps} token/秒的速度，电脑每写一个词都要读完整个文件，更小的文件读得更快。</translation>
    </message>
    <message>
        <source>Choose a smaller model: nothing else holds this one back, and at {tps}&#xa0;tokens/s this file is already among its smallest worth using. A model with fewer parameters (a lower number of billions, B) reads faster.</source>
        <translation>选择更小的模型：没有其他因素拖慢当前模型，以 {tps} token/秒的速度，这个文件已是它值得使用的最小文件之一。参数更少的模型（“B”前的数字更小，即十亿参数更少）读得更快。</translation>
    </message>
    <message>
        <source>Close other programs that keep the processor busy: they used {percent}&#xa0;% of it just now, and the model&apos;s {threads} threads wait for their turn.</source>
        <translation>关闭让处理器忙碌的其他程序：刚才它们占用了处理器的 {percent}&#xa0;%，模型的 {threads} 个线程只能排队等待。</translation>
    </message>
    <message>
        <source>Close other programs that use the GPU (games, videos, other AI apps): this reply came at {tps}&#xa0;tokens/s, well below the {low}&#xa0;tokens/s this file should reach on this GPU.</source>
        <translation>关闭其他使用 GPU 的程序（游戏、视频、其他 AI 应用）：这次回复的速度是 {tps} token/秒，远低于这个文件在这块 GPU 上应达到的 {low} token/秒。</translation>
    </message>
    <message>
        <source>Close other programs, or choose a smaller file: {swap} of memory has been moved to the disk (swap) and only {free} of RAM is free, so the model waits for the disk.</source>
        <translation>关闭其他程序，或选择更小的文件：已有 {swap} 的内存被移到磁盘（交换空间），内存只剩 {free} 空闲，所以模型要等待磁盘。</translation>
    </message>
    <message>
        <source>Conversation length</source>
        <translation>对话长度</translation>
    </message>
    <message>
        <source>Engine</source>
        <translation>引擎</translation>
    </message>
    <message>
        <source>Expected for this file</source>
        <translation>这个文件的预期速度</translation>
    </message>
    <message>
        <source>Find a smaller file</source>
        <translation>查找更小的文件</translation>
    </message>
    <message>
        <source>First token after {first} (reading {prompt}&#xa0;tokens), and no more.</source>
        <translation>{first} 后出现第一个 token（读取了 {prompt} 个 token），之后没有更多。</translation>
    </message>
    <message numerus="yes">
        <source>First token after {first} (reading {prompt}&#xa0;tokens), then {tps}&#xa0;tokens/s for %n&#xa0;tokens.</source>
        <translation>
            <numerusform>{first} 后出现第一个 token（读取了 {prompt} 个 token），之后以 {tps} token/秒写了 %n 个 token。</numerusform>
        </translation>
    </message>
    <message>
        <source>GPU memory borrowed from RAM: not known (this GPU&apos;s driver doesn&apos;t report it).</source>
        <translation>GPU 借用的内存：未知（这块 GPU 的驱动不报告此项）。</translation>
    </message>
    <message>
        <source>GPU memory borrowed from RAM: {shared}.</source>
        <translation>GPU 借用的内存：{shared}。</translation>
    </message>
    <message>
        <source>GPU memory free: {free}.</source>
        <translation>GPU 空闲显存：{free}。</translation>
    </message>
    <message>
        <source>Last reply</source>
        <translation>上一次回复</translation>
    </message>
    <message>
        <source>Measured for this model and its last reply.</source>
        <translation>以下是这个模型及其上一次回复的实测数据。</translation>
    </message>
    <message>
        <source>Measuring…</source>
        <translation>正在测量…</translation>
    </message>
    <message>
        <source>Memory spill</source>
        <translation>内存溢出</translation>
    </message>
    <message>
        <source>No model is loaded. Load one in the chat, send a message, and look here again.</source>
        <translation>尚未加载模型。请在聊天中加载一个模型，发送一条消息，然后再来这里查看。</translation>
    </message>
    <message>
        <source>No reply yet.</source>
        <translation>还没有回复。</translation>
    </message>
    <message>
        <source>No reply yet: send a message, and the figures of its reply show here. What is known from the load alone is below.</source>
        <translation>还没有回复：发送一条消息后，这里会显示该回复的数据。下面是仅从加载中得知的信息。</translation>
    </message>
    <message>
        <source>No swap in use.</source>
        <translation>未使用交换空间。</translation>
    </message>
    <message>
        <source>Not known.</source>
        <translation>未知。</translation>
    </message>
    <message>
        <source>Not known: this machine&apos;s memory speed hasn&apos;t been measured.</source>
        <translation>未知：尚未测量这台机器的内存速度。</translation>
    </message>
    <message>
        <source>Not predicted for a model split across computers: the other computers&apos; speed and the network&apos;s are not known here.</source>
        <translation>分布在多台电脑上的模型无法预测速度：这里不知道其他电脑和网络的速度。</translation>
    </message>
    <message>
        <source>Open GPU settings</source>
        <translation>打开 GPU 设置</translation>
    </message>
    <message>
        <source>Other programs</source>
        <translation>其他程序</translation>
    </message>
    <message>
        <source>Put fewer layers on the GPU (Settings, GPU offload): the GPU is borrowing {shared} of the computer&apos;s RAM, which is much slower than its own memory.</source>
        <translation>减少放在 GPU 上的层数（设置 → GPU 卸载）：GPU 正借用电脑 {shared} 的内存，这比它自己的显存慢得多。</translation>
    </message>
    <message numerus="yes">
        <source>Put more layers on the GPU (Settings, GPU offload): %n layers run on the slower CPU while the GPU has {free} free.</source>
        <translation>
            <numerusform>把更多层放到 GPU 上（设置 → GPU 卸载）：有 %n 层在较慢的 CPU 上运行，而 GPU 还有 {free} 空闲。</numerusform>
        </translation>
    </message>
    <message>
        <source>Put more layers on the GPU (Settings, GPU offload): one layer runs on the slower CPU while the GPU has {free} free.</source>
        <translation>把更多层放到 GPU 上（设置 → GPU 卸载）：有一层在较慢的 CPU 上运行，而 GPU 还有 {free} 空闲。</translation>
    </message>
    <message>
        <source>RAM free: {free}.</source>
        <translation>空闲内存：{free}。</translation>
    </message>
    <message>
        <source>Send shorter messages, or start a new chat: reading the conversation took {first} before the first word, longer than writing the reply ({writing}).</source>
        <translation>发送更短的消息，或开始新的聊天：在写出第一个词之前，读取对话用了 {first}，比写回复的时间（{writing}）还长。</translation>
    </message>
    <message>
        <source>Start a new chat</source>
        <translation>新建对话</translation>
    </message>
    <message>
        <source>Start a new chat: this one is {depth}&#xa0;tokens long, and each new word looks back over all of it. Replies came at {start}&#xa0;tokens/s at the start, and {now}&#xa0;tokens/s now.</source>
        <translation>开始新的聊天：这段对话已有 {depth} 个 token，每写一个新词都要回看全部内容。开始时回复速度为 {start} token/秒，现在为 {now} token/秒。</translation>
    </message>
    <message>
        <source>Swap in use: not known.</source>
        <translation>交换空间使用情况：未知。</translation>
    </message>
    <message>
        <source>Swap in use: {swap}.</source>
        <translation>正在使用的交换空间：{swap}。</translation>
    </message>
    <message>
        <source>The figures couldn&apos;t be read: {reason}</source>
        <translation>无法读取数据：{reason}</translation>
    </message>
    <message>
        <source>The first reply of this load: {tps}&#xa0;tokens/s.</source>
        <translation>这次加载后的第一次回复：{tps} token/秒。</translation>
    </message>
    <message>
        <source>The speed test of this file here: {tps}&#xa0;tokens/s at the start of a chat.</source>
        <translation>这台机器上对这个文件的速度测试：聊天开始时为 {tps} token/秒。</translation>
    </message>
    <message>
        <source>They used {percent}&#xa0;% of the processor just now.</source>
        <translation>刚才它们占用了处理器的 {percent}&#xa0;%。</translation>
    </message>
    <message>
        <source>What would help most</source>
        <translation>最有帮助的改动</translation>
    </message>
    <message>
        <source>Where the model runs</source>
        <translation>模型在哪里运行</translation>
    </message>
    <message>
        <source>Why is it slow?</source>
        <translation>为什么慢？</translation>
    </message>
    <message>
        <source>one thread</source>
        <translation>一个线程</translation>
    </message>
    <message>
        <source>the GPU</source>
        <translation>GPU</translation>
    </message>
    <message numerus="yes">
        <source>{here} of %n layers on this computer, the rest on other computers: {others}. Every word waits for them over the network.</source>
        <translation>
            <numerusform>%n 层中有 {here} 层在这台电脑上，其余在其他电脑上：{others}。每个词都要通过网络等待它们。</numerusform>
        </translation>
    </message>
    <message>
        <source>{low}–{high}&#xa0;tokens/s at the start of a chat (estimated from this machine&apos;s memory speed; Measure speed makes it exact).</source>
        <translation>聊天开始时为 {low}–{high} token/秒（根据这台机器的内存速度估算；“测量速度”可得到准确数值）。</translation>
    </message>
    <message>
        <source>{low}–{high}&#xa0;tokens/s at the start of a chat (from a speed test on this machine).</source>
        <translation>聊天开始时为 {low}–{high} token/秒（来自这台机器上的速度测试）。</translation>
    </message>
    <message numerus="yes">
        <source>{on_gpu} of %n layers on {gpu}, {on_cpu} on the CPU</source>
        <translation>
            <numerusform>%n 层中有 {on_gpu} 层在 {gpu} 上，{on_cpu} 层在 CPU 上</numerusform>
        </translation>
    </message>
    <message>
        <source>{used} of {ctx}&#xa0;tokens of context in use</source>
        <translation>已使用上下文 {used} / {ctx} 个 token</translation>
    </message>
</context>
<context>
    <name>WorkerRow</name>
    <message>
        <source>Check again</source>
        <translation>重新检查</translation>
    </message>
    <message>
        <source>Check {address} again</source>
        <translation>重新检查 {address}</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>正在检查…</translation>
    </message>
    <message>
        <source>Device {n}</source>
        <translation>设备 {n}</translation>
    </message>
    <message numerus="yes">
        <source>Holds %n layers of the model loaded now.</source>
        <translation>
            <numerusform>承载着当前加载模型的 %n 层。</numerusform>
        </translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>内存</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Remove {address}</source>
        <translation>移除 {address}</translation>
    </message>
    <message>
        <source>{device}: {free} free of {total}</source>
        <translation>{device}：{total} 中空闲 {free}</translation>
    </message>
    <message>
        <source>{offers} · answered in {ms} ms</source>
        <translation>{offers} · {ms} 毫秒内响应</translation>
    </message>
</context>
<context>
    <name>WorkersSection</name>
    <message>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <source>Address of another computer</source>
        <translation>另一台电脑的地址</translation>
    </message>
    <message>
        <source>Other computers</source>
        <translation>其他电脑</translation>
    </message>
    <message>
        <source>Run a model too big for this computer with the memory of other computers on your network: start “quantdesk worker” on each, then add the address it shows. The next model you load is shared out among them by each one&apos;s free memory. The connection has no password and no encryption: add only computers on a network you trust.</source>
        <translation>借助同一网络中其他电脑的内存，运行这台电脑放不下的模型：在每台电脑上启动“quantdesk worker”，然后添加它显示的地址。下次加载的模型会按每台电脑的空闲内存分配到它们上面。连接没有密码也没有加密：只添加你信任的网络中的电脑。</translation>
    </message>
    <message>
        <source>The address “quantdesk worker” shows, like 192.168.1.20:50052</source>
        <translation>“quantdesk worker”显示的地址，例如 192.168.1.20:50052</translation>
    </message>
    <message>
        <source>The list holds {n} computers at most.</source>
        <translation>列表最多容纳 {n} 台电脑。</translation>
    </message>
    <message>
        <source>{address} is in the list already.</source>
        <translation>{address} 已在列表中。</translation>
    </message>
</context>
<context>
    <name>box</name>
    <message>
        <source>About Quantdesk</source>
        <translation>关于 Quantdesk</translation>
    </message>
    <message>
        <source>Quantdesk {version}: chat with language models on your own computer. Models run here with llama.cpp; nothing you type leaves this machine.</source>
        <translation>Quantdesk {version}：在你自己的电脑上与大语言模型对话。模型通过 llama.cpp 在本地运行，你输入的任何内容都不会离开这台电脑。</translation>
    </message>
</context>
</TS>
